//! Parse + resolve throughput on a generated runbook of more than 1 MB
//! (`cargo bench --bench parse`; criterion reports MB/s).

use criterion::{criterion_main, Criterion, Throughput};
use runbook::syntax::{check_source, parse};

mod common;

fn bench(criterion: &mut Criterion) {
    let source = common::parse_bench_runbook();
    let mut group = criterion.benchmark_group("runbook");
    group.throughput(Throughput::Bytes(source.len() as u64));
    group.sample_size(20);
    group.bench_function("parse", |bencher| {
        bencher.iter(|| parse(&source).map(|file| file.body.len()).unwrap_or(0))
    });
    group.bench_function("parse+resolve", |bencher| {
        bencher.iter(|| {
            let (_, checked) = check_source("generated.runbook", &source);
            assert!(checked.errors.is_empty());
            checked.program.is_some()
        })
    });
    group.finish();
}

mod group {
    // The macro generates an undocumented `pub fn`.
    #![allow(missing_docs)]
    criterion::criterion_group!(benches, super::bench);
}
criterion_main!(group::benches);
