//! `ndarray` entry points: any shape, any memory layout.

use std::borrow::Cow;

use ndarray::{ArrayView, Dimension};

use crate::{Error, Ranking, Result, ScoreScale, Value};

/// The elements of `a` in logical (row-major) order, borrowed when the layout is
/// already standard.
fn flat<'a, T: Value, D: Dimension>(a: &'a ArrayView<'_, T, D>) -> Cow<'a, [T]> {
    match a.as_slice() {
        Some(s) => Cow::Borrowed(s),
        None => Cow::Owned(a.iter().copied().collect()),
    }
}

fn check_shape<A, B, D: Dimension>(
    what: &'static str,
    scores: &ArrayView<'_, A, D>,
    other: &ArrayView<'_, B, D>,
) -> Result<()> {
    if scores.shape() == other.shape() {
        Ok(())
    } else {
        Err(Error::ShapeMismatch {
            what,
            expected: scores.shape().to_vec(),
            got: other.shape().to_vec(),
        })
    }
}

impl Ranking {
    /// Ranks the elements of arrays of any shape (e.g. `[N, H, W]` masks): every
    /// element is one score, as [`Ranking::new`] / [`Ranking::weighted`] on the
    /// flattened arrays.
    ///
    /// Standard-layout views are read in place; other layouts are copied once in
    /// logical order.
    ///
    /// # Shapes
    /// `labels` and `weights` (if given) have exactly the shape of `scores`.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`]; otherwise as [`Ranking::weighted`].
    ///
    /// # Examples
    /// ```
    /// use metrics::{Ranking, ScoreScale};
    /// use ndarray::array;
    /// let scores = array![[0.9f32, 0.2], [0.6, 0.4]];
    /// let labels = array![[1u8, 0], [0, 1]];
    /// let r = Ranking::from_arrays(scores.t(), labels.t(), None::<ndarray::ArrayView2<f32>>,
    ///                              ScoreScale::Probabilities)?;
    /// assert_eq!(r.roc_auc().get(), Some(0.75));
    /// # Ok::<(), metrics::Error>(())
    /// ```
    pub fn from_arrays<S: Value, L: Value, W: Value, D: Dimension>(
        scores: ArrayView<'_, S, D>,
        labels: ArrayView<'_, L, D>,
        weights: Option<ArrayView<'_, W, D>>,
        scale: ScoreScale,
    ) -> Result<Ranking> {
        check_shape("labels", &scores, &labels)?;
        let (s, l) = (flat(&scores), flat(&labels));
        match weights {
            None => Ranking::new(&s, &l, scale),
            Some(w) => {
                check_shape("weights", &scores, &w)?;
                Ranking::weighted(&s, &l, &flat(&w), scale)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use ndarray::{Array3, ArrayView3};

    use super::*;

    #[test]
    fn views_of_any_layout_match_the_flat_slices() {
        let scores =
            Array3::from_shape_fn((2, 3, 4), |(i, j, k)| ((i * 7 + j * 5 + k * 3) % 6) as f32);
        let labels = Array3::from_shape_fn((2, 3, 4), |(i, j, k)| ((i + j + k) % 2) as u8);
        let flat_s: Vec<f32> = scores.iter().copied().collect();
        let flat_l: Vec<u8> = labels.iter().copied().collect();
        let want = Ranking::new(&flat_s, &flat_l, ScoreScale::Logits).unwrap();
        let none = None::<ArrayView3<f32>>;
        let got = Ranking::from_arrays(scores.view(), labels.view(), none, ScoreScale::Logits);
        assert_eq!(got.unwrap(), want);
        // Permuted axes: same multiset of (score, label) pairs, so the same ranking.
        let got = Ranking::from_arrays(
            scores.view().permuted_axes([2, 0, 1]),
            labels.view().permuted_axes([2, 0, 1]),
            none,
            ScoreScale::Logits,
        );
        assert_eq!(got.unwrap(), want);
        let bad = labels.view().permuted_axes([1, 0, 2]);
        let e = Ranking::from_arrays(scores.view(), bad, none, ScoreScale::Logits).unwrap_err();
        assert!(matches!(e, Error::ShapeMismatch { what: "labels", .. }));
    }
}
