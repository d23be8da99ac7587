//! Peak resident memory of this process, read from `/proc/self/status` (Linux).
//!
//! `side_by_side.py` reads the same two fields for the Python side, so both columns of
//! `docs/benchmarks.md` are measured the same way: the resident set (what the machine
//! pays), not allocator statistics.
use std::fs;

/// Reads a `kB` field such as `VmHWM` from `/proc/self/status`; `None` where the file
/// or the field is missing (not Linux).
fn status_kb(field: &str) -> Option<u64> {
    let status = fs::read_to_string("/proc/self/status").ok()?;
    status.lines().find_map(|line| {
        let rest = line.strip_prefix(field)?.strip_prefix(':')?;
        rest.trim().strip_suffix("kB")?.trim().parse().ok()
    })
}

/// Current resident set size in KiB (`VmRSS`).
pub fn rss_kb() -> Option<u64> {
    status_kb("VmRSS")
}

/// Peak resident set size in KiB since the start or the last [`reset_peak`] (`VmHWM`).
pub fn peak_kb() -> Option<u64> {
    status_kb("VmHWM")
}

/// Resets the peak to the current resident set (writes `5` to `/proc/self/clear_refs`,
/// Linux ≥ 4.0). Returns false where that is not possible; the peak then includes
/// everything before.
pub fn reset_peak() -> bool {
    fs::write("/proc/self/clear_refs", "5").is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peak_covers_a_fresh_allocation() {
        if rss_kb().is_none() {
            return; // not Linux
        }
        let reset = reset_peak();
        let before = rss_kb().unwrap();
        // 64 MiB, touched so that it is resident.
        let block = vec![1u8; 64 << 20];
        std::hint::black_box(&block);
        let peak = peak_kb().unwrap();
        assert!(
            peak >= before + 60_000,
            "peak {peak} kB, before {before} kB"
        );
        drop(block);
        if reset {
            assert!(reset_peak());
            assert!(peak_kb().unwrap() < peak);
        }
    }
}
