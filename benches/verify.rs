//! Full exploration of the shipped no-downtime runbook by the verifier, with
//! 3 and 5 servers (goal: 3 servers well under 5 s in release), and its
//! worst-case duration from a step. Besides the criterion timing, prints the
//! states explored and states per second.

use std::path::Path;
use std::time::Instant;

use criterion::{criterion_main, Criterion};
use runbook::check::verify::{self, VerifyOptions};
use runbook::interp::load::load_path;

fn verify_no_downtime(criterion: &mut Criterion) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("runbooks/upgrade-no-downtime.runbook");
    let program = match load_path(&path, "upgrade-no-downtime") {
        Ok(program) => program,
        Err(error) => panic!("the shipped runbook loads: {}", error.message()),
    };
    let mut group = criterion.benchmark_group("verify");
    group.sample_size(10);
    for servers in [3, 5] {
        let options = VerifyOptions {
            servers,
            ..VerifyOptions::default()
        };
        let started = Instant::now();
        let report = verify::verify(&program, &options);
        let elapsed = started.elapsed();
        assert!(report.proven(), "the shipped runbook verifies clean");
        println!(
            "verify upgrade-no-downtime --servers {servers}: {} states, {} paths, {} configurations in {:.3}s ({:.0} states/s)",
            report.states,
            report.paths,
            report.configurations.len(),
            elapsed.as_secs_f64(),
            report.states as f64 / elapsed.as_secs_f64().max(f64::EPSILON)
        );
        group.bench_function(
            format!("upgrade-no-downtime/{servers}-servers"),
            |bencher| bencher.iter(|| verify::verify(&program, &options)),
        );
    }
    // The worst-case duration from a step: one more exploration, measuring
    // the longest time from each start of the step to an end.
    let options = VerifyOptions {
        check_replays: false,
        ..VerifyOptions::default()
    };
    group.bench_function("worst-case/upgrade-no-downtime/from-step", |bencher| {
        bencher.iter(|| {
            verify::worst_case(
                &program,
                &options,
                verify::Since::Step("upgrade-initial-active"),
            )
        })
    });
    group.finish();
}

/// `criterion_group!` generates an undocumented public function.
#[allow(missing_docs)]
mod registered {
    use super::verify_no_downtime;
    criterion::criterion_group!(benches, verify_no_downtime);
}

criterion_main!(registered::benches);
