//! Interpreter overhead: a generated 10,000-step runbook on the in-process
//! simulator (each step reads the cluster and checks one condition), and the
//! whole downtime upgrade fixture. Events go to a sink that drops them and no
//! journal is written, so the figures are the interpreter's own cost; the
//! journaled variant shows what writing the journal (and forcing it to disk
//! at the end: its steps send no operation) adds on this disk.

use std::hint::black_box;

use criterion::{criterion_main, Criterion, Throughput};
use runbook::connect::sim::SimConnector;
use runbook::interp::events::{NullSink, RunOutcome};
use runbook::interp::load::{load_path, load_text};
use runbook::interp::machine::{self, JournalChoice, RunSettings};
use runbook::interp::program::Program;
use runbook::interp::prompt::OperatorPrompter;

/// A runbook of `steps` steps, each reading the live cluster once.
pub fn generated_runbook(steps: usize) -> String {
    let mut text =
        String::from("runbook generated {\n    title \"Generated\"\n    let active = active()\n");
    for index in 0..steps {
        text.push_str(&format!(
            "    step s{index} \"Step {index}\" {{\n        check active.running else \"the Active stopped\"\n    }}\n"
        ));
    }
    text.push_str("}\n");
    text
}

fn run_once(
    runtime: &tokio::runtime::Runtime,
    program: &Program,
    journal: JournalChoice,
) -> RunOutcome {
    let connector = SimConnector::new(Default::default());
    let mut sink = NullSink;
    let mut prompter = OperatorPrompter::non_interactive(None, true);
    let settings = RunSettings {
        journal,
        ..RunSettings::default()
    };
    runtime
        .block_on(machine::run(
            program,
            &connector,
            &mut sink,
            &mut prompter,
            settings,
        ))
        .outcome
}

/// The interpreter's benchmarks.
pub fn bench(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let steps = 10_000;
    let program = match load_text("generated.runbook", &generated_runbook(steps)) {
        Ok(program) => program,
        Err(error) => panic!("the generated runbook does not load: {:?}", error.reports),
    };
    let mut group = c.benchmark_group("interp");
    group.sample_size(10);
    group.throughput(Throughput::Elements(steps as u64));
    group.bench_function("10k_steps_no_journal", |b| {
        b.iter(|| {
            assert_eq!(
                black_box(run_once(&runtime, &program, JournalChoice::Disabled)),
                RunOutcome::Succeeded
            )
        });
    });
    // Two journal records per step, each with the observed cluster: a
    // thousand steps are enough to see their cost.
    let small = match load_text("generated-1k.runbook", &generated_runbook(1_000)) {
        Ok(program) => program,
        Err(error) => panic!("the generated runbook does not load: {:?}", error.reports),
    };
    let dir = tempfile::tempdir().expect("a temporary folder");
    let mut counter = 0;
    group.throughput(Throughput::Elements(1_000));
    group.bench_function("1k_steps_journal", |b| {
        b.iter(|| {
            counter += 1;
            let journal = JournalChoice::File(dir.path().join(format!("run-{counter}.jsonl")));
            assert_eq!(
                black_box(run_once(&runtime, &small, journal)),
                RunOutcome::Succeeded
            );
        });
    });
    group.throughput(Throughput::Elements(1));
    let downtime = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/run/downtime.runbook"
    );
    let downtime =
        load_path(std::path::Path::new(downtime), "downtime").expect("the downtime fixture loads");
    group.bench_function("downtime_upgrade_whole_run", |b| {
        b.iter(|| {
            assert_eq!(
                black_box(run_once(&runtime, &downtime, JournalChoice::Disabled)),
                RunOutcome::Succeeded
            )
        });
    });
    group.finish();
}

/// `criterion_group!` generates an undocumented public function.
#[allow(missing_docs)]
mod registered {
    use super::bench;
    criterion::criterion_group!(benches, bench);
}

criterion_main!(registered::benches);
