//! Binary pixel segmentation trained for the metric users care about.
