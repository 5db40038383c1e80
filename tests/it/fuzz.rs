//! Property-based fuzzing of the front end: parse + resolve + lint, and the
//! formatter's round trip on every input that parses.
//!
//! Coverage-guided fuzzers (cargo-fuzz, cargo-afl) need nightly or an AFL++
//! build this machine's stable toolchain does not offer (see
//! docs/performance.md, "Fuzzing"), so inputs come from proptest generators:
//! random bytes, random Unicode strings, runbook-shaped token streams, deep
//! nesting, structured runbooks and mutations of every fixture and shipped
//! runbook.
//!
//! Invariants, for every input: no panic, no stack overflow (the checks run
//! on a thread with a 2 MiB stack, smaller than the CLI's main thread), and
//! no more than a second per KB (asserted in long mode only, since timing
//! asserts in CI would be flaky; the worst case seen is printed).
//!
//! CI runs a modest number of cases with a fixed seed. Long mode:
//! `RUNBOOK_FUZZ_SECONDS=90 cargo test --release --test it fuzz:: -- --nocapture
//! --test-threads 2` runs each property for 90 s with fresh seeds
//! (`RUNBOOK_FUZZ_CASES` sets the cases per round, `RUNBOOK_FUZZ_SEED` replays
//! a printed failing seed).
//! Every input that once found a bug lives in `tests/fixtures/fuzz/` and is
//! replayed by [`regression_fixtures_stay_fixed`].

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use runbook::check::lint::LintConfig;
use runbook::check::project::{find_runbooks, lint_program};
use runbook::fmt::format_source;
use runbook::syntax::{check_source, decode, parse};

use crate::support::manifest_dir;

/// Cases per property: small in CI, as many as asked in long mode.
fn cases() -> u32 {
    std::env::var("RUNBOOK_FUZZ_CASES")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(64)
}

/// In long mode each property runs rounds of [`cases`] until this many
/// seconds have passed (`RUNBOOK_FUZZ_SECONDS`); by default one round.
fn seconds() -> u64 {
    std::env::var("RUNBOOK_FUZZ_SECONDS")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(0)
}

fn long_mode() -> bool {
    std::env::var_os("RUNBOOK_FUZZ_CASES").is_some()
        || std::env::var_os("RUNBOOK_FUZZ_SECONDS").is_some()
}

/// The seed of a round: fixed in CI (reproducible), from the clock in long
/// mode, or `RUNBOOK_FUZZ_SEED` (64 hex digits) to replay a failure.
fn seed_for(round: u64) -> [u8; 32] {
    let mut seed = [0u8; 32];
    if let Ok(hex) = std::env::var("RUNBOOK_FUZZ_SEED") {
        for (index, byte) in seed.iter_mut().enumerate() {
            *byte = hex
                .get(index * 2..index * 2 + 2)
                .and_then(|pair| u8::from_str_radix(pair, 16).ok())
                .unwrap_or(0);
        }
        return seed;
    }
    let clock = if long_mode() {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|elapsed| elapsed.as_nanos())
            .unwrap_or(0)
    } else {
        0
    };
    seed[..16].copy_from_slice(&clock.to_le_bytes());
    seed[16..24].copy_from_slice(&round.to_le_bytes());
    seed
}

fn hex_seed(seed: &[u8; 32]) -> String {
    seed.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// The slowest input seen, as (milliseconds per KB, bytes, milliseconds).
static WORST: Mutex<(f64, usize, f64)> = Mutex::new((0.0, 0, 0.0));
/// How many inputs parsed, and how many resolved (so reached the linter):
/// a generator whose inputs never parse only tests the error paths.
static PARSED: AtomicUsize = AtomicUsize::new(0);
static RESOLVED: AtomicUsize = AtomicUsize::new(0);

/// Runs every front-end phase on `text`; returns an error message when an
/// invariant other than "no panic" breaks.
fn exercise_text(text: &str) -> Result<(), String> {
    let (_workspace, checked) = check_source("fuzz.runbook", text);
    if let Some(program) = &checked.program {
        RESOLVED.fetch_add(1, Ordering::Relaxed);
        let _ = lint_program(program, &LintConfig::default());
    }
    if parse(text).is_ok() {
        PARSED.fetch_add(1, Ordering::Relaxed);
        let formatted = format_source(text)
            .map_err(|errors| format!("parse succeeded but fmt refused: {errors:?}"))?;
        let again = format_source(&formatted).map_err(|errors| {
            format!("fmt output does not parse: {errors:?}\n--- output ---\n{formatted}")
        })?;
        if again != formatted {
            return Err(format!(
                "fmt is not idempotent\n--- once ---\n{formatted}\n--- twice ---\n{again}"
            ));
        }
    }
    Ok(())
}

/// Runs [`exercise_text`] on a small-stack thread, timing it.
fn exercise(text: String) -> Result<(), String> {
    let bytes = text.len();
    let started = Instant::now();
    let outcome = std::thread::Builder::new()
        .stack_size(2 * 1024 * 1024)
        .spawn(move || exercise_text(&text))
        .map_err(|error| format!("cannot spawn: {error}"))?
        .join()
        .map_err(|_| "panicked".to_owned())?;
    let elapsed = started.elapsed();
    let kilobytes = (bytes as f64 / 1024.0).max(1.0);
    let per_kb = elapsed.as_secs_f64() * 1000.0 / kilobytes;
    if let Ok(mut worst) = WORST.lock() {
        if per_kb > worst.0 {
            *worst = (per_kb, bytes, elapsed.as_secs_f64() * 1000.0);
        }
    }
    if long_mode() && elapsed > Duration::from_secs_f64(kilobytes) {
        return Err(format!(
            "{bytes} bytes took {elapsed:?} (over a second per KB)"
        ));
    }
    outcome
}

fn exercise_bytes(bytes: &[u8]) -> Result<(), String> {
    match decode(bytes) {
        Ok(text) => exercise(text.to_string()),
        Err(_) => exercise(String::from_utf8_lossy(bytes).into_owned()),
    }
}

fn run_property<S: Strategy>(name: &str, strategy: S, test: impl Fn(S::Value) -> Result<(), String>)
where
    S::Value: std::fmt::Debug,
{
    let started = Instant::now();
    let budget = Duration::from_secs(seconds());
    let mut rounds = 0u64;
    let result = loop {
        // A fresh seed each round, printed so a failure can be replayed.
        let seed = seed_for(rounds);
        let mut runner = TestRunner::new_with_rng(
            Config {
                cases: cases(),
                failure_persistence: None,
                ..Config::default()
            },
            TestRng::from_seed(RngAlgorithm::ChaCha, &seed),
        );
        let result = runner.run(&strategy, |value| test(value).map_err(TestCaseError::fail));
        rounds += 1;
        if result.is_err() {
            eprintln!("fuzz {name}: failing seed {}", hex_seed(&seed));
        }
        if result.is_err() || started.elapsed() >= budget {
            break result;
        }
    };
    if let Ok(worst) = WORST.lock() {
        eprintln!(
            "fuzz {name}: {} cases in {:?} (all properties: {} parsed, {} resolved); slowest input so far: {:.3} ms/KB ({} bytes, {:.3} ms)",
            u64::from(cases()) * rounds,
            started.elapsed(),
            PARSED.load(Ordering::Relaxed),
            RESOLVED.load(Ordering::Relaxed),
            worst.0,
            worst.1,
            worst.2
        );
    }
    if let Err(error) = result {
        panic!("fuzz {name}: {error}");
    }
}

// ------------------------------------------------------------------ corpus

/// The `.runbook` files below `dir`, found as `runbook check` finds them.
fn runbook_files(dir: &Path, files: &mut Vec<PathBuf>) {
    find_runbooks(dir, files, &mut Vec::new());
}

/// Every shipped runbook and test fixture: the seeds of the mutations.
fn corpus() -> Vec<String> {
    let mut files = Vec::new();
    runbook_files(&manifest_dir().join("runbooks"), &mut files);
    runbook_files(&manifest_dir().join("tests/fixtures"), &mut files);
    files
        .iter()
        .filter_map(|path| std::fs::read_to_string(path).ok())
        .collect()
}

// ------------------------------------------------------------------ generators

const TOKENS: &[&str] = &[
    "runbook",
    "procedure",
    "step",
    "what-if",
    "if",
    "else",
    "for",
    "in",
    "all",
    "any",
    "not",
    "and",
    "or",
    "check",
    "wait",
    "until",
    "timeout",
    "within",
    "every",
    "retry",
    "choose",
    "option",
    "default",
    "confirm",
    "note",
    "warning",
    "fail",
    "stop",
    "call",
    "let",
    "select",
    "from",
    "param",
    "import",
    "title",
    "summary",
    "record",
    "during",
    "after",
    "when",
    "on",
    "changes",
    "discards",
    "without",
    "failed",
    "true",
    "false",
    "server",
    "version",
    "duration",
    "number",
    "string",
    "bool",
    "text",
    "two-actives",
    "replication-broken",
    "standby-activated",
    "upgrade-cancelled",
    "ACT_REP",
    "STB_REP",
    "ACT_NO_REP",
    "STB_ONHOLD",
    "BROKEN_ACT_STB",
    "SINGLE_SERVER",
    "UNKNOWN",
    "active()",
    "standbys()",
    "servers()",
    "actives()",
    "replication_ok()",
    "upgrade",
    "exclude",
    "s",
    "x",
    "é",
    "名前",
    "⚠️",
    "\u{feff}",
    "\u{200b}",
    "7.4.0",
    "7.4",
    "1.2.3.4.5",
    "99999999999999999999999",
    "0",
    "-1",
    "10min",
    "5s",
    "3h",
    "250ms",
    "1d",
    "10",
    "\"text\"",
    "\"\"",
    "\"unterminated",
    "\"esc\\\"aped\"",
    "\"\\u{1F600}\"",
    "\"\\",
    "{",
    "}",
    "(",
    ")",
    "[",
    "]",
    ",",
    ":",
    "=",
    "==",
    "!=",
    "<",
    "<=",
    ">",
    ">=",
    ".",
    "-",
    "/",
    "_",
    "//",
    "///",
    "//!",
    "// comment\n",
    "/*",
    "\n",
    "\r\n",
    "\t",
    " ",
    "  ",
];

fn token_stream() -> impl Strategy<Value = String> {
    proptest::collection::vec(0..TOKENS.len(), 0..200).prop_map(|indices| {
        let mut text = String::new();
        for index in indices {
            text.push_str(TOKENS[index]);
            text.push(' ');
        }
        text
    })
}

/// Token soup inside a runbook header, so the parser goes past the keyword.
fn wrapped_token_stream() -> impl Strategy<Value = String> {
    (token_stream(), any::<bool>()).prop_map(|(body, procedure)| {
        let keyword = if procedure { "procedure" } else { "runbook" };
        format!("{keyword} fuzz {{\n    title \"fuzz\"\n{body}\n}}\n")
    })
}

const OPENERS: &[(&str, &str)] = &[
    ("if true {\n", "}\n"),
    ("for s in servers() {\n", "}\n"),
    ("step 1 s \"t\" {\n", "}\n"),
    ("choose c \"q\" { option a \"a\" default {\n", "} }\n"),
    ("check (", ") else \"x\"\n"),
    ("check [", "] == [] else \"x\"\n"),
    ("check not ", "true else \"x\"\n"),
    ("check -", "1 == 1 else \"x\"\n"),
    ("let v = (", ")\n"),
    ("what-if w \"t\" when two-actives {\n", "}\n"),
    ("{", "}"),
    ("(", ")"),
    ("[", "]"),
    ("\"", "\""),
];

/// Nesting far past the parser's limits, balanced or not.
fn deep_nesting() -> impl Strategy<Value = String> {
    (0..OPENERS.len(), 0usize..3000, any::<bool>(), any::<bool>()).prop_map(
        |(opener, depth, close, wrap)| {
            let (open, end) = OPENERS[opener];
            let mut text = String::new();
            if wrap {
                text.push_str("runbook deep {\n");
            }
            for _ in 0..depth {
                text.push_str(open);
            }
            text.push_str("note \"bottom\"\n");
            if close {
                for _ in 0..depth {
                    text.push_str(end);
                }
            }
            if wrap {
                text.push_str("}\n");
            }
            text
        },
    )
}

fn expression() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        Just("true".to_owned()),
        Just("false".to_owned()),
        Just("1".to_owned()),
        Just("7.4.0".to_owned()),
        Just("10m".to_owned()),
        Just("\"é\"".to_owned()),
        Just("ACT_REP".to_owned()),
        Just("active()".to_owned()),
        Just("s".to_owned()),
        Just("replication_ok()".to_owned()),
        Just("count(standbys())".to_owned()),
    ];
    leaf.prop_recursive(6, 48, 4, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a} and {b}")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a} or {b}")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a} == {b}")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a} < {b}")),
            inner.clone().prop_map(|a| format!("not {a}")),
            inner.clone().prop_map(|a| format!("({a})")),
            inner.clone().prop_map(|a| format!("[{a}, {a}]")),
            inner.clone().prop_map(|a| format!("{a}.version")),
            inner.prop_map(|a| format!("all s in servers(): {a}")),
        ]
    })
}

fn statement() -> impl Strategy<Value = String> {
    let simple = prop_oneof![
        expression().prop_map(|e| format!("check {e} else \"failed\"\n")),
        expression().prop_map(|e| format!("wait until {e} timeout 10m\n")),
        expression().prop_map(|e| format!("let v = {e}\n")),
        Just("note \"a note\"\n".to_owned()),
        Just("warning \"careful\"\n".to_owned()),
        Just("confirm go \"ok?\"\n".to_owned()),
        Just("fail \"no\"\n".to_owned()),
        Just("stop \"done\"\n".to_owned()),
        Just("upgrade(server: active(), version: version)\n".to_owned()),
        Just("replication-states(server: active())\n".to_owned()),
        Just("call missing(version: version)\n".to_owned()),
        Just("// a comment\n".to_owned()),
    ];
    simple.prop_recursive(5, 64, 6, |inner| {
        let block = proptest::collection::vec(inner, 0..5).prop_map(|stmts| stmts.concat());
        prop_oneof![
            (expression(), block.clone(), block.clone())
                .prop_map(|(e, a, b)| format!("if {e} {{\n{a}}} else {{\n{b}}}\n")),
            block
                .clone()
                .prop_map(|b| format!("for s in servers() {{\n{b}}}\n")),
            (0u32..20, block.clone())
                .prop_map(|(n, b)| format!("step {n} s{n} \"Step {n}\" {{\n{b}}}\n")),
            (block.clone(), block.clone()).prop_map(|(a, b)| format!(
                "choose c \"q\" {{\noption a \"A\" default {{\n{a}}}\noption b \"B\" {{\n{b}}}\n}}\n"
            )),
            block.prop_map(|b| format!("what-if both \"Both active\" when two-actives {{\n{b}}}\n")),
        ]
    })
}

/// Runbooks built from the grammar: mostly well formed, so the resolver,
/// the linter and the formatter see real programs.
fn structured_runbook() -> impl Strategy<Value = String> {
    (proptest::collection::vec(statement(), 0..8), any::<bool>()).prop_map(|(body, param)| {
        let param = if param {
            "param version: version = 7.4.0\n"
        } else {
            ""
        };
        format!(
            "runbook generated {{\ntitle \"Generated\"\nsummary \"s\"\n{param}{}}}\n",
            body.concat()
        )
    })
}

/// A fixture or shipped runbook with tokens spliced in, ranges deleted or
/// duplicated.
fn mutated_corpus() -> impl Strategy<Value = String> {
    let seeds = corpus();
    let count = seeds.len().max(1);
    (
        0..count,
        proptest::collection::vec((any::<usize>(), 0..TOKENS.len(), 0usize..40, 0u8..3), 1..8),
    )
        .prop_map(move |(seed, edits)| {
            let mut text = seeds.get(seed).cloned().unwrap_or_default();
            for (position, token, length, kind) in edits {
                let mut at = position % (text.len() + 1);
                while !text.is_char_boundary(at) {
                    at -= 1;
                }
                let mut end = (at + length).min(text.len());
                while !text.is_char_boundary(end) {
                    end += 1;
                }
                match kind {
                    0 => text.replace_range(at..end, TOKENS[token]),
                    1 => text.replace_range(at..end, ""),
                    _ => {
                        let copy = text[at..end].to_owned();
                        text.insert_str(at, &copy);
                    }
                }
            }
            text
        })
}

// ------------------------------------------------------------------ properties

#[test]
fn random_bytes() {
    run_property(
        "random bytes",
        proptest::collection::vec(any::<u8>(), 0..4096),
        |bytes| exercise_bytes(&bytes),
    );
}

#[test]
fn random_unicode() {
    run_property("random unicode", any::<String>(), exercise);
}

#[test]
fn token_streams() {
    run_property("token streams", token_stream(), exercise);
}

#[test]
fn wrapped_token_streams() {
    run_property("wrapped token streams", wrapped_token_stream(), exercise);
}

#[test]
fn deep_nestings() {
    run_property("deep nesting", deep_nesting(), exercise);
}

#[test]
fn structured_runbooks() {
    run_property("structured runbooks", structured_runbook(), exercise);
}

#[test]
fn mutated_runbooks() {
    run_property("mutated runbooks", mutated_corpus(), exercise);
}

/// Every input that once broke an invariant.
#[test]
fn regression_fixtures_stay_fixed() {
    let mut files = Vec::new();
    runbook_files(&manifest_dir().join("tests/fixtures/fuzz"), &mut files);
    for path in files {
        let bytes = std::fs::read(&path).unwrap_or_default();
        if let Err(message) = exercise_bytes(&bytes) {
            panic!("{}: {message}", path.display());
        }
    }
}
