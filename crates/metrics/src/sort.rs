//! The one sort: an LSD radix sort of (score key, signed weight) entries.
//!
//! Scores are mapped to `u64` keys whose unsigned order is the numeric order of the
//! scores, then sorted by 8-bit digits. Digits that are the same for every entry
//! (for example the low 29 mantissa bits of `f32` scores widened to `f64`) are
//! skipped, so `f32` scores cost about five passes instead of eight.

/// One element after validation: its score key and its weight, signed by label
/// (`+w` for label 1, `-w` for label 0; zero weights never get here).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Entry {
    /// Order-preserving key of the score.
    pub key: u64,
    /// `+weight` for a positive, `-weight` for a negative.
    pub weight: f64,
}

/// Maps a non-NaN score to a key with the same order (`-0.0` and `0.0` share a key).
#[inline]
pub(crate) fn score_key(score: f64) -> u64 {
    // Adding +0.0 turns -0.0 into +0.0, so the two zeros form one tie group.
    let bits = (score + 0.0).to_bits();
    if bits >> 63 == 1 {
        !bits
    } else {
        bits | (1 << 63)
    }
}

/// Inverse of [`score_key`].
#[inline]
pub(crate) fn key_score(key: u64) -> f64 {
    let bits = if key >> 63 == 1 {
        key & !(1 << 63)
    } else {
        !key
    };
    f64::from_bits(bits)
}

/// Below this length a comparison sort is faster than eight histogram passes.
const RADIX_MIN_LEN: usize = 2048;

/// Sorts `entries` by ascending key, stably.
pub(crate) fn sort_entries(entries: &mut Vec<Entry>) {
    let n = entries.len();
    if n < RADIX_MIN_LEN {
        entries.sort_by_key(|e| e.key);
        return;
    }
    let mut counts = vec![[0usize; 256]; 8];
    for e in entries.iter() {
        let mut k = e.key;
        for c in counts.iter_mut() {
            c[(k & 0xff) as usize] += 1;
            k >>= 8;
        }
    }
    let mut src = std::mem::take(entries);
    let mut dst = vec![
        Entry {
            key: 0,
            weight: 0.0
        };
        n
    ];
    for (pass, count) in counts.iter().enumerate() {
        // A digit shared by every entry leaves the order unchanged.
        if count.contains(&n) {
            continue;
        }
        let mut offsets = [0usize; 256];
        let mut acc = 0;
        for (o, &c) in offsets.iter_mut().zip(count.iter()) {
            *o = acc;
            acc += c;
        }
        let shift = 8 * pass;
        for e in src.iter() {
            let d = ((e.key >> shift) & 0xff) as usize;
            dst[offsets[d]] = *e;
            offsets[d] += 1;
        }
        std::mem::swap(&mut src, &mut dst);
    }
    *entries = src;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_preserves_order_and_round_trips() {
        let xs = [
            f64::NEG_INFINITY,
            -1e300,
            -2.5,
            -1e-310,
            0.0,
            1e-310,
            0.5,
            3.0,
            f64::MAX,
            f64::INFINITY,
        ];
        for w in xs.windows(2) {
            assert!(score_key(w[0]) < score_key(w[1]), "{} vs {}", w[0], w[1]);
        }
        for &x in &xs {
            assert_eq!(key_score(score_key(x)).to_bits(), x.to_bits());
        }
        assert_eq!(score_key(-0.0), score_key(0.0));
    }

    #[test]
    fn radix_matches_comparison_sort() {
        // A deterministic pseudo-random sequence with many ties and both signs.
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let mut entries: Vec<Entry> = (0..10_000)
            .map(|i| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let score = ((state % 2001) as f64 - 1000.0) / 7.0;
                let score = if i % 3 == 0 {
                    score as f32 as f64
                } else {
                    score
                };
                Entry {
                    key: score_key(score),
                    weight: i as f64 + 1.0,
                }
            })
            .collect();
        let mut expected = entries.clone();
        expected.sort_by_key(|e| e.key);
        sort_entries(&mut entries);
        assert_eq!(entries, expected);
    }
}
