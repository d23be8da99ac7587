//! A U-Net for binary segmentation: images `[N, C, H, W]` in, logits `[N, 1, H, W]` out.
//!
//! Architecture (Ronneberger et al., 2015, with padded convolutions and batch norm):
//!
//! ```text
//! block(a → b)   = conv3x3(a → b) · BN · ReLU · conv3x3(b → b) · BN · ReLU
//! width(i)       = base_channels · 2^i                       i = 0 ..= depth
//! encoder        e0 = block(C → width 0)(x)
//!                e_i = block(width(i−1) → width i)(maxpool2x2(e_{i−1}))    i = 1 ..= depth
//! decoder        d_depth = e_depth
//!                d_i = block(2·width i → width i)(concat(e_i, upconv2x2(d_{i+1})))
//! head           logits = conv1x1(width 0 → 1)(d_0)
//! ```
//!
//! `depth` is the number of 2× down-samplings (0 gives a single block and the head, a
//! purely local model). Images whose `H` or `W` is not a multiple of `2^depth` are
//! zero-padded at the bottom and right up to the next multiple, and the logits are
//! cropped back to `H × W`, so every input size is accepted.
use serde::{Deserialize, Serialize};
use tch::nn::{self, ModuleT};
use tch::{Device, Tensor};

use crate::{Error, Result};

/// The largest accepted `depth` (2^8 = 256× down-sampling is already beyond any use here).
pub const MAX_DEPTH: usize = 8;

/// The largest accepted parameter count (10⁹ scalars, 4 GB in f32).
pub const MAX_PARAMETERS: u128 = 1_000_000_000;

/// Size of a [`UNet`]; build it with [`UNet::new`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct UNetConfig {
    /// Number of 2× down-samplings, `0 ..= 8`; defaults to `3`.
    pub depth: usize,
    /// Channels of the first block; level `i` has `base_channels · 2^i`. Defaults to `16`.
    pub base_channels: i64,
    /// Channels of the input images (1 for grayscale, 3 for RGB); defaults to `1`.
    pub in_channels: i64,
}

impl Default for UNetConfig {
    fn default() -> Self {
        UNetConfig {
            depth: 3,
            base_channels: 16,
            in_channels: 1,
        }
    }
}

impl UNetConfig {
    /// A capacity-limited variant: depth 1, 4 base channels, grayscale input.
    pub fn tiny() -> Self {
        UNetConfig {
            depth: 1,
            base_channels: 4,
            in_channels: 1,
        }
    }

    /// Checks every field.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] when `depth > 8`, `base_channels` is not in `1 ..= 4096`,
    /// `in_channels` is not in `1 ..= 64`, or the model would have more than
    /// [`MAX_PARAMETERS`] parameters.
    pub fn validate(&self) -> Result<()> {
        if self.depth > MAX_DEPTH {
            return Err(Error::config(
                "depth",
                format!("must be at most {MAX_DEPTH}, got {}", self.depth),
            ));
        }
        if !(1..=4096).contains(&self.base_channels) {
            return Err(Error::config(
                "base_channels",
                format!("must be in 1..=4096, got {}", self.base_channels),
            ));
        }
        if !(1..=64).contains(&self.in_channels) {
            return Err(Error::config(
                "in_channels",
                format!("must be in 1..=64, got {}", self.in_channels),
            ));
        }
        let params = self.num_parameters();
        if params > MAX_PARAMETERS {
            return Err(Error::config(
                "base_channels",
                format!(
                    "the model would have {params} parameters, more than {MAX_PARAMETERS} \
                     (base_channels {}, depth {})",
                    self.base_channels, self.depth
                ),
            ));
        }
        Ok(())
    }

    /// Number of trainable scalars of the model this config builds.
    ///
    /// ```text
    /// block(a → b) = 9ab + 9b² + 4b          (two bias-free 3x3 convs, two batch norms)
    /// total = block(C → w₀) + Σ_{i=1..d} block(w_{i−1} → w_i)
    ///       + Σ_{i=0..d−1} [4·w_{i+1}·w_i + w_i + block(2w_i → w_i)] + w₀ + 1
    /// ```
    ///
    /// Fields are not validated here: for the computation, `depth` is capped at
    /// [`MAX_DEPTH`] and channel counts at 2^20 (so `u128` never overflows).
    pub fn num_parameters(&self) -> u128 {
        let block = |a: u128, b: u128| 9 * a * b + 9 * b * b + 4 * b;
        let depth = self.depth.min(MAX_DEPTH) as u32;
        let base = self.base_channels.clamp(0, 1 << 20) as u128;
        let width = |i: u32| base << i;
        let in_channels = self.in_channels.clamp(0, 1 << 20) as u128;
        let mut total = block(in_channels, width(0)) + width(0) + 1;
        for i in 1..=depth {
            total += block(width(i - 1), width(i));
        }
        for i in 0..depth {
            total += 4 * width(i + 1) * width(i) + width(i) + block(2 * width(i), width(i));
        }
        total
    }

    /// The side multiple `2^depth` that inputs are padded to.
    pub fn size_multiple(&self) -> i64 {
        1 << self.depth
    }
}

/// conv3x3 · BN · ReLU, twice.
#[derive(Debug)]
struct Block {
    conv1: nn::Conv2D,
    bn1: nn::BatchNorm,
    conv2: nn::Conv2D,
    bn2: nn::BatchNorm,
}

impl Block {
    fn new(path: &nn::Path, in_channels: i64, out_channels: i64) -> Self {
        // Padded 3×3 convolutions keep H × W; the bias is redundant before batch norm.
        let conv = nn::ConvConfig {
            padding: 1,
            bias: false,
            ..Default::default()
        };
        // PyTorch's BatchNorm2d starts with weight 1 (tch's default draws it from U(0, 1)).
        let bn = nn::BatchNormConfig {
            ws_init: nn::Init::Const(1.0),
            ..Default::default()
        };
        Block {
            conv1: nn::conv2d(path / "conv1", in_channels, out_channels, 3, conv),
            bn1: nn::batch_norm2d(path / "bn1", out_channels, bn),
            conv2: nn::conv2d(path / "conv2", out_channels, out_channels, 3, conv),
            bn2: nn::batch_norm2d(path / "bn2", out_channels, bn),
        }
    }
}

impl ModuleT for Block {
    fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
        xs.apply(&self.conv1)
            .apply_t(&self.bn1, train)
            .relu()
            .apply(&self.conv2)
            .apply_t(&self.bn2, train)
            .relu()
    }
}

/// A U-Net returning one logit per pixel; see the [module docs](self) for the layout.
///
/// Variables live under the `nn::Path` given to [`UNet::new`] (batch-norm running
/// statistics included, as non-trainable variables), so `VarStore::save`/`load`
/// checkpoint the whole model.
///
/// # Shapes
/// Input `[N, C, H, W]` float (the VarStore's kind, f32 by default) on the model's device,
/// `C = in_channels`, any `H, W ≥ 1`; output logits `[N, 1, H, W]`.
#[derive(Debug)]
pub struct UNet {
    config: UNetConfig,
    device: Device,
    encoder: Vec<Block>,
    up: Vec<nn::ConvTranspose2D>,
    decoder: Vec<Block>,
    head: nn::Conv2D,
}

impl UNet {
    /// Creates the variables of a U-Net under `path`.
    ///
    /// Initialization uses tch's generator: seed it with `tch::manual_seed` first for a
    /// reproducible model.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] from [`UNetConfig::validate`].
    ///
    /// # Examples
    /// ```
    /// use seg::model::{UNet, UNetConfig};
    /// use tch::{Device, Kind, Tensor, nn};
    /// let vs = nn::VarStore::new(Device::Cpu);
    /// let model = UNet::new(&(vs.root() / "model"), &UNetConfig::tiny())?;
    /// let images = Tensor::rand([2, 1, 13, 17], (Kind::Float, Device::Cpu));
    /// let logits = model.f_forward_t(&images, false)?;
    /// assert_eq!(logits.size(), vec![2, 1, 13, 17]);
    /// # Ok::<(), seg::Error>(())
    /// ```
    pub fn new(path: &nn::Path, config: &UNetConfig) -> Result<Self> {
        config.validate()?;
        let width = |i: usize| config.base_channels << i;
        let mut encoder = Vec::with_capacity(config.depth + 1);
        encoder.push(Block::new(&(path / "enc0"), config.in_channels, width(0)));
        for i in 1..=config.depth {
            encoder.push(Block::new(
                &(path / format!("enc{i}")),
                width(i - 1),
                width(i),
            ));
        }
        let up_config = nn::ConvTransposeConfig {
            stride: 2,
            ..Default::default()
        };
        let mut up = Vec::with_capacity(config.depth);
        let mut decoder = Vec::with_capacity(config.depth);
        for i in 0..config.depth {
            up.push(nn::conv_transpose2d(
                path / format!("up{i}"),
                width(i + 1),
                width(i),
                2,
                up_config,
            ));
            decoder.push(Block::new(
                &(path / format!("dec{i}")),
                2 * width(i),
                width(i),
            ));
        }
        let head = nn::conv2d(path / "head", width(0), 1, 1, Default::default());
        Ok(UNet {
            config: config.clone(),
            device: path.device(),
            encoder,
            up,
            decoder,
            head,
        })
    }

    /// The configuration this model was built with.
    pub fn config(&self) -> &UNetConfig {
        &self.config
    }

    /// The device the model's variables live on.
    pub fn device(&self) -> Device {
        self.device
    }

    /// Checks `images` and runs the model; the fallible form of [`ModuleT::forward_t`].
    ///
    /// `train = true` uses batch statistics in batch norm and updates its running
    /// statistics; `train = false` uses the running statistics.
    ///
    /// # Shapes
    /// `images` `[N, C, H, W]` → logits `[N, 1, H, W]`.
    ///
    /// # Errors
    /// [`Error::Shape`] when `images` is not rank 4, has `C ≠ in_channels`, or has an empty
    /// dimension; [`Error::Kind`] when it is not floating point; [`Error::Device`] when it is
    /// not on the model's device; [`Error::InvalidConfig`] (field `batch_size`) when
    /// `train` is set and batch norm would see a single value per channel (N = 1 and
    /// `H, W ≤ 2^depth`).
    pub fn f_forward_t(&self, images: &Tensor, train: bool) -> Result<Tensor> {
        let size = images.size();
        let expected = vec![-1, self.config.in_channels, -1, -1];
        if size.len() != 4 || size[1] != self.config.in_channels || size.contains(&0) {
            return Err(Error::Shape {
                op: "UNet::forward",
                what: "images",
                expected,
                got: size,
            });
        }
        if !images.is_floating_point() {
            return Err(Error::Kind {
                op: "UNet::forward",
                what: "images",
                got: images.kind(),
            });
        }
        if images.device() != self.device {
            return Err(Error::Device {
                op: "UNet::forward",
                what: "images",
                expected: self.device,
                got: images.device(),
            });
        }
        let m = self.config.size_multiple();
        if train && size[0] == 1 && size[2] <= m && size[3] <= m {
            return Err(Error::config(
                "batch_size",
                format!(
                    "batch norm in training needs more than one value per channel: a batch \
                     of 1 image of {}x{} reaches 1x1 at depth {}",
                    size[2], size[3], self.config.depth
                ),
            ));
        }
        Ok(self.run(images, train))
    }

    /// The forward pass proper, on a checked input.
    fn run(&self, images: &Tensor, train: bool) -> Tensor {
        let (h, w) = (images.size()[2], images.size()[3]);
        let m = self.config.size_multiple();
        let (pad_h, pad_w) = ((m - h % m) % m, (m - w % m) % m);
        let x = if pad_h > 0 || pad_w > 0 {
            // Pad order is (left, right, top, bottom) for the last two dims.
            images.constant_pad_nd([0, pad_w, 0, pad_h])
        } else {
            images.shallow_clone()
        };
        let mut skips: Vec<Tensor> = Vec::with_capacity(self.config.depth + 1);
        let mut x = self.encoder[0].forward_t(&x, train); // [N, width 0, H', W']
        for block in &self.encoder[1..] {
            skips.push(x.shallow_clone());
            x = block.forward_t(&x.max_pool2d([2, 2], [2, 2], [0, 0], [1, 1], false), train);
        }
        for i in (0..self.config.depth).rev() {
            let up = x.apply(&self.up[i]); // [N, width i, H'/2^i, W'/2^i]
            let cat = Tensor::cat(&[&skips[i], &up], 1); // [N, 2·width i, ..]
            x = self.decoder[i].forward_t(&cat, train);
        }
        let logits = x.apply(&self.head); // [N, 1, H', W']
        if pad_h > 0 || pad_w > 0 {
            logits.narrow(2, 0, h).narrow(3, 0, w)
        } else {
            logits
        }
    }
}

impl ModuleT for UNet {
    /// Runs the model.
    ///
    /// # Panics
    /// On inputs that [`UNet::f_forward_t`] rejects; use that to get an error instead.
    fn forward_t(&self, images: &Tensor, train: bool) -> Tensor {
        self.f_forward_t(images, train)
            .expect("images should be [N, in_channels, H, W] on the model's device")
    }
}
