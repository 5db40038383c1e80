//! Linting cost on the parser benchmark's generated 1.1 MB runbook (and on a
//! second generated shape): parse alone, parse + resolve, lint alone (on the
//! resolved program), and the whole `runbook check` pipeline. Goal: linting
//! adds at most 50% to parse time.
//!
//! `cargo bench --bench lint`

#![allow(missing_docs)]

mod common;

use std::collections::HashMap;
use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use runbook::check::lint::{lint, LintConfig};
use runbook::check::project::lint_program;
use runbook::syntax::{check_source, parse};

fn parse_bench_input(criterion: &mut Criterion) {
    let text = common::parse_bench_runbook();
    let (_, checked) = check_source("generated.runbook", &text);
    let Some(program) = checked.program else {
        panic!("the parse bench runbook resolves: {:?}", checked.errors);
    };
    let config = LintConfig::default();

    let mut group = criterion.benchmark_group("lint-parse-bench-input");
    group.sample_size(10);
    group.throughput(Throughput::Bytes(text.len() as u64));
    group.bench_function("parse", |bench| {
        bench.iter(|| parse(black_box(&text)).map(|file| file.body.len()))
    });
    group.bench_function("parse+resolve", |bench| {
        bench.iter(|| {
            check_source("generated.runbook", black_box(&text))
                .1
                .errors
                .len()
        })
    });
    group.bench_function("lint", |bench| {
        bench.iter(|| lint_program(black_box(&program), &config).len())
    });
    group.bench_function("parse+resolve+lint", |bench| {
        bench.iter(|| {
            let (_, checked) = check_source("generated.runbook", black_box(&text));
            checked
                .program
                .map(|program| lint_program(&program, &config).len())
        })
    });
    group.finish();
}

fn prompts_and_branches(criterion: &mut Criterion) {
    let text = common::generated_runbook(common::ONE_MEGABYTE);
    let file = match parse(&text) {
        Ok(file) => file,
        Err(errors) => panic!("the generated runbook parses: {errors:?}"),
    };
    let procedures = HashMap::new();
    let config = LintConfig::default();
    let findings = lint(&file, &text, &procedures, &config);
    assert!(
        findings.is_empty(),
        "the generated runbook lints clean: {findings:?}"
    );

    let mut group = criterion.benchmark_group("lint-prompts-and-branches");
    group.sample_size(10);
    group.throughput(Throughput::Bytes(text.len() as u64));
    group.bench_function("parse", |bench| {
        bench.iter(|| parse(black_box(&text)).map(|file| file.body.len()))
    });
    group.bench_function("lint", |bench| {
        bench.iter(|| lint(black_box(&file), &text, &procedures, &config).len())
    });
    group.finish();
}

criterion_group!(benches, parse_bench_input, prompts_and_branches);
criterion_main!(benches);
