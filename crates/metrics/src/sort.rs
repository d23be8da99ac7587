//! The one sort: an LSD radix sort of score keys, bare (unweighted) or with a
//! signed weight.
//!
//! Scores are mapped to `u64` keys whose unsigned order is the numeric order of the
//! scores. Only the bit range in which the keys differ is sorted on (for `f32`
//! scores widened to `f64` the low 29 mantissa bits never differ), in equal digits
//! of at most 13 bits.

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

/// Something the radix sort can order: a `u64` sort key per item.
pub(crate) trait Keyed: Copy {
    /// A filler value for scratch buffers.
    const ZERO: Self;
    /// The key; items are sorted by ascending key.
    fn sort_key(&self) -> u64;
}

impl Keyed for Entry {
    const ZERO: Self = Entry {
        key: 0,
        weight: 0.0,
    };

    #[inline]
    fn sort_key(&self) -> u64 {
        self.key
    }
}

/// A bare score key (unweighted elements, one array per class).
impl Keyed for u64 {
    const ZERO: Self = 0;
    #[inline]
    fn sort_key(&self) -> u64 {
        *self
    }
}

/// Below this length a comparison sort is faster than the histogram passes.
const RADIX_MIN_LEN: usize = 4096;
/// Most bits per radix digit: 2¹³ buckets, whose counters stay in the L2 cache.
const MAX_DIGIT_BITS: u32 = 13;

/// Sorts `items` by ascending [`Keyed::sort_key`], stably, and returns the scratch
/// buffer (possibly empty) for reuse.
///
/// Only the bit range in which keys differ is sorted on, split into equal digits of
/// at most 13 bits: usually two or three passes for `f32` probabilities, five for
/// arbitrary `f64` scores.
pub(crate) fn radix_sort<T: Keyed>(items: &mut Vec<T>) -> Vec<T> {
    let n = items.len();
    if n < RADIX_MIN_LEN {
        items.sort_by_key(|e| e.sort_key());
        return Vec::new();
    }
    let first = items[0].sort_key();
    let diff = items.iter().fold(0u64, |d, e| d | (e.sort_key() ^ first));
    if diff == 0 {
        return Vec::new();
    }
    let lo = diff.trailing_zeros();
    let hi = 64 - diff.leading_zeros();
    let passes = (hi - lo).div_ceil(MAX_DIGIT_BITS);
    let bits = (hi - lo).div_ceil(passes);
    let mask = (1u64 << bits) - 1;
    let buckets = 1usize << bits;
    let mut counts = vec![0usize; buckets * passes as usize];
    for e in items.iter() {
        let mut k = e.sort_key() >> lo;
        for c in counts.chunks_exact_mut(buckets) {
            c[(k & mask) as usize] += 1;
            k >>= bits;
        }
    }
    let mut src = std::mem::take(items);
    // Zero-filled, so for `u64` the allocator hands out untouched pages (no copy).
    let mut dst = vec![T::ZERO; n];
    let mut offsets = vec![0usize; buckets];
    for (pass, count) in counts.chunks_exact(buckets).enumerate() {
        // A digit shared by every item leaves the order unchanged.
        if count.contains(&n) {
            continue;
        }
        let mut acc = 0;
        for (o, &c) in offsets.iter_mut().zip(count.iter()) {
            *o = acc;
            acc += c;
        }
        let shift = lo + bits * pass as u32;
        for e in src.iter() {
            let d = ((e.sort_key() >> shift) & mask) as usize;
            dst[offsets[d]] = *e;
            offsets[d] += 1;
        }
        std::mem::swap(&mut src, &mut dst);
    }
    *items = src;
    dst
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
        let _ = radix_sort(&mut entries);
        assert_eq!(entries, expected);
    }
}
