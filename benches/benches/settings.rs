//! Criterion settings and the sizes measured, in one place.
//!
//! The machine this project is developed on has 2 cores shared by several people, so the
//! default run is short (10 samples, 2 s of measurement per benchmark). Set `BENCH_LONG=1`
//! for 30 samples over 8 s, `BENCH_QUICK=1` to measure only the smallest size of each
//! workload (a smoke run), and `BENCH_THREADS=n` for another thread count than 2.
use std::time::{Duration, Instant};

use criterion::{BenchmarkGroup, Criterion, SamplingMode, Throughput, measurement::WallTime};
use tch::Device;

use benches::{Case, THREADS};

fn flag(name: &str) -> bool {
    std::env::var_os(name).is_some_and(|v| !v.is_empty() && v != "0")
}

/// Whether `BENCH_QUICK` is set.
pub fn quick() -> bool {
    flag("BENCH_QUICK")
}

/// The shared criterion configuration (command-line flags still apply on top). Sets
/// libtorch's intra-op threads to `BENCH_THREADS`, default 2 (what `docs/benchmarks.md`
/// uses); on a busy 2-core machine `BENCH_THREADS=1` gives steadier figures.
pub fn criterion() -> Criterion {
    let threads = std::env::var("BENCH_THREADS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&t: &i32| t >= 1)
        .unwrap_or(THREADS);
    tch::set_num_threads(threads);
    let (samples, measure, warm) = if flag("BENCH_LONG") {
        (30, 8, 2)
    } else {
        (10, 2, 1)
    };
    Criterion::default()
        .sample_size(samples)
        .measurement_time(Duration::from_secs(measure))
        .warm_up_time(Duration::from_secs(warm))
        .without_plots()
}

/// `sizes`, or only its first element under `BENCH_QUICK`.
pub fn sizes(sizes: &[usize]) -> &[usize] {
    if quick() { &sizes[..1] } else { sizes }
}

/// The logits counts of the loss benchmarks: 2¹⁴, 2¹⁷, 2²¹.
pub const LOSS_SIZES: [usize; 3] = [1 << 14, 1 << 17, 1 << 21];

/// The score counts of the metric benchmarks: 10⁵, 10⁶, 10⁷.
pub const METRIC_SIZES: [usize; 3] = [100_000, 1_000_000, 10_000_000];

/// The devices to measure on: the CPU, and CUDA device 0 when one is available.
pub fn devices() -> Vec<Device> {
    let mut d = vec![Device::Cpu];
    if tch::Cuda::is_available() {
        d.push(Device::Cuda(0));
    }
    d
}

/// A group named after the case, with its throughput set and flat sampling (every
/// sample runs the same number of iterations, so a 1 s workload costs 10 iterations, not
/// the 55 of criterion's default linear sampling).
pub fn group<'a>(c: &'a mut Criterion, case: &Case) -> BenchmarkGroup<'a, WallTime> {
    let mut g = c.benchmark_group(case.group());
    g.throughput(Throughput::Elements(case.elements()));
    g.sampling_mode(SamplingMode::Flat);
    g
}

/// The benchmark name of a case on a device: its parameter, `-cuda` on CUDA.
pub fn name(case: &Case, device: Device) -> String {
    match device {
        Device::Cpu => case.parameter(),
        _ => format!("{}-cuda", case.parameter()),
    }
}

/// Times `iters` calls of `step`, waiting for the device before each clock read (CUDA
/// runs asynchronously); for criterion's `iter_custom`.
pub fn timed<F: FnMut()>(device: Device, iters: u64, mut step: F) -> Duration {
    sync(device);
    let start = Instant::now();
    for _ in 0..iters {
        step();
    }
    sync(device);
    start.elapsed()
}

fn sync(device: Device) {
    if let Device::Cuda(i) = device {
        tch::Cuda::synchronize(i as i64);
    }
}
