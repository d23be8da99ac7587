//! Criterion suite (placeholder until the benchmark issue lands).
use criterion::{Criterion, criterion_group, criterion_main};

fn smoke(c: &mut Criterion) {
    let x = tch::Tensor::from_slice(&[1.0f32, 2.0, 3.0]);
    c.bench_function("tensor_sum/3", |b| b.iter(|| x.sum(tch::Kind::Float)));
}

criterion_group!(benches, smoke);
criterion_main!(benches);
