//! libtorch links, runs a forward pass and a backward pass.
use tch::{Device, Kind, Tensor};

/// y = sum(w * x^2) with x = [1, 2, 3], w = [0.5, -1, 2]: dy/dx = 2 w x = [1, -4, 12].
#[test]
fn backward_gives_the_hand_gradient() {
    let x = Tensor::from_slice(&[1.0f64, 2.0, 3.0]).set_requires_grad(true);
    let w = Tensor::from_slice(&[0.5f64, -1.0, 2.0]);
    let y = (&w * &x * &x).sum(Kind::Double);
    assert_eq!(y.double_value(&[]), 0.5 - 4.0 + 18.0);
    y.backward();
    let grad: Vec<f64> = Vec::try_from(x.grad()).expect("gradient should convert");
    assert_eq!(grad, vec![1.0, -4.0, 12.0]);
}

#[test]
fn cpu_is_always_available() {
    let t = Tensor::ones([2, 2], (Kind::Float, Device::Cpu));
    assert_eq!(t.sum(Kind::Float).double_value(&[]), 4.0);
    // On a machine without CUDA this is the CPU; with CUDA the same code runs there.
    let d = Device::cuda_if_available();
    let on = t.to_device(d);
    assert_eq!(on.device(), d);
}
