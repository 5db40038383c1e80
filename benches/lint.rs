//! Linting cost on the generated 1 MB runbook the parser benchmark uses:
//! parse alone, lint alone (on the parsed tree), and parse + lint. Goal:
//! linting adds at most 50% to parse time.
//!
//! `cargo bench --bench lint`

#![allow(missing_docs)]

mod common;

use std::collections::HashMap;
use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use runbook::check::lint::{lint, LintConfig};

fn lint_benchmarks(criterion: &mut Criterion) {
    let text = common::generated_runbook(common::ONE_MEGABYTE);
    let file = match runbook::syntax::parse(&text) {
        Ok(file) => file,
        Err(errors) => panic!("the generated runbook does not parse: {errors:?}"),
    };
    let procedures = HashMap::new();
    let config = LintConfig::default();
    let findings = lint(&file, &text, &procedures, &config);
    assert!(
        findings.is_empty(),
        "the generated runbook lints clean: {findings:?}"
    );

    let mut group = criterion.benchmark_group("lint-1MB");
    group.sample_size(10);
    group.throughput(Throughput::Bytes(text.len() as u64));
    group.bench_function("parse", |bench| {
        bench.iter(|| runbook::syntax::parse(black_box(&text)).map(|file| file.body.len()))
    });
    group.bench_function("lint", |bench| {
        bench.iter(|| lint(black_box(&file), &text, &procedures, &config).len())
    });
    group.bench_function("parse+lint", |bench| {
        bench.iter(|| {
            runbook::syntax::parse(black_box(&text))
                .map(|file| lint(&file, &text, &procedures, &config).len())
        })
    });
    group.finish();
}

criterion_group!(benches, lint_benchmarks);
criterion_main!(benches);
