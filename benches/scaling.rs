//! How cost grows with runbook size and cluster size: prints the tables of
//! docs/performance.md (not criterion: one row per size, medians of a few
//! runs). `bench/scaling.sh` runs it; `cargo bench --bench scaling` too.
//!
//! - Runbook size: generated runbooks of 1 KB → 10 MB (the lint benchmark's
//!   shape), timed in process: parse, check (parse + resolve + lint, as
//!   `runbook check`) and fmt.
//! - Cluster size: `runbook run upgrade-with-downtime --sim-servers N --yes
//!   --format json` as a whole process for N = 3 → 50, and the verifier on
//!   the shipped no-downtime runbook for the sizes asked with
//!   `RUNBOOK_SCALING_VERIFY` (default `3,5,10,20`; 50 takes minutes).

#[path = "common/mod.rs"]
mod common;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use runbook::check::lint::LintConfig;
use runbook::check::project::lint_program;
use runbook::check::verify::{self, VerifyOptions};
use runbook::fmt::format_source;
use runbook::interp::load::load_path;
use runbook::syntax::{check_source, parse};

/// The median of `f`'s wall times: at least 3 runs, more while under 1 s.
fn median(mut f: impl FnMut()) -> Duration {
    let mut times = Vec::new();
    let started = Instant::now();
    while times.len() < 3 || (times.len() < 51 && started.elapsed() < Duration::from_secs(1)) {
        let run = Instant::now();
        f();
        times.push(run.elapsed());
    }
    times.sort();
    times[times.len() / 2]
}

fn ms(duration: Duration) -> String {
    format!("{:.3}", duration.as_secs_f64() * 1000.0)
}

fn runbook_sizes() {
    println!("| runbook size | bytes | steps | parse (ms) | check (ms) | fmt (ms) | check MB/s |");
    println!("|---|---|---|---|---|---|---|");
    for (label, bytes) in [
        ("1 KB", 1024),
        ("10 KB", 10 * 1024),
        ("100 KB", 100 * 1024),
        ("1 MB", 1024 * 1024),
        ("10 MB", 10 * 1024 * 1024),
    ] {
        let text = common::generated_runbook(bytes);
        let steps = text.matches("\n    step ").count();
        let parse_time = median(|| {
            if let Err(errors) = parse(&text) {
                panic!("the generated runbook parses: {errors:?}");
            }
        });
        let check_time = median(|| {
            let (_workspace, checked) = check_source("generated.runbook", &text);
            let Some(program) = checked.program else {
                panic!("the generated runbook resolves: {:?}", checked.errors);
            };
            std::hint::black_box(lint_program(&program, &LintConfig::default()));
        });
        let fmt_time = median(|| {
            std::hint::black_box(format_source(&text).ok());
        });
        println!(
            "| {label} | {} | {steps} | {} | {} | {} | {:.1} |",
            text.len(),
            ms(parse_time),
            ms(check_time),
            ms(fmt_time),
            text.len() as f64 / 1e6 / check_time.as_secs_f64()
        );
    }
}

fn cluster_sizes() {
    let binary = env!("CARGO_BIN_EXE_runbook");
    let journal_dir = std::env::temp_dir().join(format!("runbook-scaling-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&journal_dir);
    println!();
    println!("| servers | `runbook run upgrade-with-downtime --sim-servers N` (ms, whole process) | journal records |");
    println!("|---|---|---|");
    for servers in [3, 5, 10, 20, 50] {
        let journal = journal_dir.join(format!("run-{servers}.jsonl"));
        let time = median(|| {
            let _ = std::fs::remove_file(&journal);
            let output = Command::new(binary)
                .args(["run", "upgrade-with-downtime", "--yes", "--format", "json"])
                .args(["--sim-servers", &servers.to_string(), "--journal"])
                .arg(&journal)
                .output()
                .expect("runbook runs");
            assert!(
                output.status.success(),
                "{servers} servers: {}",
                String::from_utf8_lossy(&output.stdout)
            );
        });
        let records = std::fs::read_to_string(&journal)
            .map(|text| text.lines().count())
            .unwrap_or(0);
        println!("| {servers} | {} | {records} |", ms(time));
    }
    let _ = std::fs::remove_dir_all(&journal_dir);

    let sizes = std::env::var("RUNBOOK_SCALING_VERIFY").unwrap_or_else(|_| "3,5,10,20".to_owned());
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("runbooks/upgrade-no-downtime.runbook");
    let program = match load_path(&path, "upgrade-no-downtime") {
        Ok(program) => program,
        Err(error) => panic!("the shipped runbook loads: {}", error.message()),
    };
    println!();
    println!("| servers | `verify upgrade-no-downtime` (s) | states | paths | configurations |");
    println!("|---|---|---|---|---|");
    // `RUNBOOK_SCALING_MAX_FAULTS=1` for each fault alone (the
    // configurations then grow linearly with the servers, quadratically with
    // the default 2).
    let max_faults = std::env::var("RUNBOOK_SCALING_MAX_FAULTS")
        .ok()
        .and_then(|value| value.trim().parse().ok())
        .unwrap_or(VerifyOptions::default().max_faults);
    for servers in sizes.split(',').filter_map(|size| size.trim().parse().ok()) {
        let options = VerifyOptions {
            servers,
            max_faults,
            ..VerifyOptions::default()
        };
        let started = Instant::now();
        let report = verify::verify(&program, &options);
        println!(
            "| {servers} | {:.3} | {} | {} | {} |",
            started.elapsed().as_secs_f64(),
            report.states,
            report.paths,
            report.configurations.len()
        );
    }
}

fn main() {
    // `cargo bench` passes `--bench`; a filter argument picks one table.
    let filter: Vec<String> = std::env::args()
        .skip(1)
        .filter(|arg| !arg.starts_with("--"))
        .collect();
    let wants = |name: &str| {
        filter.is_empty() || filter.iter().any(|wanted| name.contains(wanted.as_str()))
    };
    if wants("runbook-size") {
        runbook_sizes();
    }
    if wants("cluster-size") {
        cluster_sizes();
    }
}
