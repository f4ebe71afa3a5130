//! Deterministic randomness.
//!
//! Every random stream is derived from the run's seed and the identity of what
//! it generates (a school, a student and a year, ...), never from a shared
//! sequential generator: any part of the dataset can then be regenerated on
//! its own, in any order and on any thread, and still come out identical.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// What a stream is for; mixed into its seed so that two streams about the
/// same entity never coincide.
#[derive(Debug, Clone, Copy)]
#[repr(u64)]
pub(crate) enum Tag {
    Schools = 2,
    Roster = 4,
    Incoming = 5,
    Marks = 6,
    Modo = 8,
    ModoDraw = 9,
    Cohort = 10,
}

/// SplitMix64's finaliser: a fast bijective mixer with good avalanche.
pub(crate) fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// Hashes the seed, the tag and the parts into one 64-bit key.
pub(crate) fn key(seed: u64, tag: Tag, parts: &[i64]) -> u64 {
    let mut h = splitmix(seed ^ splitmix(tag as u64));
    for &p in parts {
        h = splitmix(h ^ (p as u64));
    }
    h
}

/// A uniform number in `[0, 1)` determined by the seed, tag and parts alone.
pub(crate) fn hash_unit(seed: u64, tag: Tag, parts: &[i64]) -> f64 {
    to_unit(key(seed, tag, parts))
}

fn to_unit(x: u64) -> f64 {
    (x >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// A seeded random stream (ChaCha8, whose output is stable across versions).
pub(crate) struct Stream(ChaCha8Rng);

impl Stream {
    /// The stream for `tag` and `parts` under `seed`.
    pub(crate) fn new(seed: u64, tag: Tag, parts: &[i64]) -> Stream {
        let k = key(seed, tag, parts);
        let mut bytes = [0u8; 32];
        let mut state = k;
        for chunk in bytes.chunks_exact_mut(8) {
            state = splitmix(state);
            chunk.copy_from_slice(&state.to_le_bytes());
        }
        Stream(ChaCha8Rng::from_seed(bytes))
    }

    /// A uniform number in `[0, 1)`.
    pub(crate) fn unit(&mut self) -> f64 {
        to_unit(self.0.next_u64())
    }

    /// True with probability `p`.
    pub(crate) fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// A uniform integer in `lo..=hi` (`lo` when `hi < lo`).
    pub(crate) fn range(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            return lo;
        }
        let span = (hi - lo) as u64 + 1;
        // Multiply-shift: unbiased enough for spans this small, and branch-free.
        lo + ((u128::from(self.0.next_u64()) * u128::from(span)) >> 64) as i64
    }

    /// A uniform index below `n` (0 when `n` is 0).
    pub(crate) fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            return 0;
        }
        self.range(0, n as i64 - 1) as usize
    }

    /// A standard normal deviate (Box–Muller; one of the pair is dropped to
    /// keep the stream's consumption independent of call history).
    pub(crate) fn normal(&mut self) -> f64 {
        let u1 = 1.0 - self.unit(); // (0, 1]: ln is finite
        let u2 = self.unit();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    /// An index drawn with the given (non-negative) weights.
    pub(crate) fn weighted(&mut self, weights: &[f64]) -> usize {
        let total: f64 = weights.iter().sum();
        let mut x = self.unit() * total;
        for (i, w) in weights.iter().enumerate() {
            if x < *w {
                return i;
            }
            x -= w;
        }
        weights.len().saturating_sub(1)
    }

    /// Shuffles `items` in place (Fisher–Yates).
    pub(crate) fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i + 1);
            items.swap(i, j);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_reproducible_and_distinct() {
        let draw = |tag, parts: &[i64]| {
            let mut s = Stream::new(7, tag, parts);
            (0..4).map(|_| s.range(0, 1_000_000)).collect::<Vec<_>>()
        };
        assert_eq!(draw(Tag::Marks, &[1, 2]), draw(Tag::Marks, &[1, 2]));
        assert_ne!(draw(Tag::Marks, &[1, 2]), draw(Tag::Marks, &[2, 1]));
        assert_ne!(draw(Tag::Marks, &[1, 2]), draw(Tag::Roster, &[1, 2]));
    }

    #[test]
    fn draws_stay_in_their_ranges() {
        let mut s = Stream::new(1, Tag::Schools, &[]);
        let mut seen = [false; 3];
        for _ in 0..1000 {
            let r = s.range(-1, 1);
            assert!((-1..=1).contains(&r));
            seen[(r + 1) as usize] = true;
            let u = s.unit();
            assert!((0.0..1.0).contains(&u));
        }
        assert_eq!(seen, [true; 3]);
        assert_eq!(s.range(5, 5), 5);
        assert_eq!(s.below(0), 0);
        assert_eq!(s.weighted(&[0.0, 1.0, 0.0]), 1);
    }

    #[test]
    fn normal_deviates_have_unit_spread() {
        let mut s = Stream::new(3, Tag::Cohort, &[]);
        let xs: Vec<f64> = (0..20_000).map(|_| s.normal()).collect();
        let mean = xs.iter().sum::<f64>() / xs.len() as f64;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / xs.len() as f64;
        assert!(mean.abs() < 0.03, "mean {mean}");
        assert!((var - 1.0).abs() < 0.05, "variance {var}");
    }
}
