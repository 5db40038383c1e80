//! The catalogue of `runbook::…` diagnostic codes (`src/check/catalogue/`):
//! every code written in `src/` has an entry (and every entry a code that is
//! emitted), every runnable example really reports its code through the
//! built binary, and `runbook explain` prints entries, lists every code and
//! rejects unknown ones with exit code 2.

use std::collections::BTreeSet;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command as Process, Stdio};

use assert_cmd::Command;
use runbook::check::catalogue::{self, docs, Example};
use runbook::check::lint::registry;
use runbook::check::verify::Property;
use runbook::cli::explain::explanation;

use crate::support::manifest_dir;

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|extension| extension == "rs") {
            out.push(path);
        }
    }
}

/// Every `runbook::PHASE::NAME` written in `text` that is a code rather than
/// a Rust path: not followed by `(` (`runbook::cli::main()`) or by `::`.
fn code_literals(text: &str) -> Vec<String> {
    let bytes = text.as_bytes();
    let is_word = |byte: u8| byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'_';
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(offset) = text[from..].find("runbook::") {
        let start = from + offset;
        from = start + "runbook::".len();
        if start > 0 && (is_word(bytes[start - 1]) || bytes[start - 1] == b':') {
            continue;
        }
        let mut end = from;
        let mut segments = 0;
        loop {
            let segment_start = end;
            while end < bytes.len() && is_word(bytes[end]) {
                end += 1;
            }
            if end == segment_start {
                break;
            }
            segments += 1;
            if text[end..].starts_with("::") && bytes.get(end + 2).copied().is_some_and(is_word) {
                end += 2;
            } else {
                break;
            }
        }
        let followed_by_call = bytes.get(end) == Some(&b'(');
        let followed_by_path = text[end..].starts_with("::");
        if segments == 2 && !followed_by_call && !followed_by_path {
            found.push(text[start..end].to_owned());
        }
    }
    found
}

/// The codes written in `src/`, with the first file each appears in.
fn codes_in_source() -> Vec<(String, String)> {
    let mut files = Vec::new();
    rust_files(&manifest_dir().join("src"), &mut files);
    files.sort();
    let mut seen = BTreeSet::new();
    let mut codes = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("read source file");
        for code in code_literals(&text) {
            if seen.insert(code.clone()) {
                let relative = file.strip_prefix(manifest_dir()).unwrap_or(&file);
                codes.push((code, relative.display().to_string()));
            }
        }
    }
    codes
}

#[test]
fn the_scanner_finds_codes_and_skips_rust_paths() {
    let text = r#"
        #[diagnostic(code(runbook::syntax::unexpected))]
        code: String::from("runbook::run::window_exceeded"),
        std::process::exit(runbook::cli::main());
        use runbook::check::lint::registry;
        //! (`runbook::verify::<property>`) and format!("runbook::verify::{}", name)
        my_runbook::syntax::unexpected
    "#;
    assert_eq!(
        code_literals(text),
        [
            "runbook::syntax::unexpected",
            "runbook::run::window_exceeded"
        ]
    );
}

#[test]
fn every_code_emitted_in_src_has_a_catalogue_entry() {
    let found = codes_in_source();
    assert!(
        found.len() > 80,
        "the scan found only {} codes: is it still reading src/?",
        found.len()
    );
    let missing: Vec<String> = found
        .iter()
        .filter(|(code, _)| catalogue::entry(code).is_none_or(|entry| entry.code != code))
        .map(|(code, file)| format!("{code} (in {file})"))
        .collect();
    assert!(
        missing.is_empty(),
        "codes without a catalogue entry (add them to src/check/catalogue/):\n{}",
        missing.join("\n")
    );
    // The verifier builds its codes with `format!`: one per property.
    for property in Property::ALL {
        let entry = catalogue::entry(&property.code())
            .unwrap_or_else(|| panic!("{} has no catalogue entry", property.code()));
        assert_eq!(entry.fix, property.help(), "{}", entry.code);
    }
}

#[test]
fn every_catalogue_entry_is_a_code_that_is_emitted() {
    let in_source: BTreeSet<String> = codes_in_source()
        .into_iter()
        .map(|(code, _)| code)
        .collect();
    let verify: BTreeSet<String> = Property::ALL
        .iter()
        .map(|property| property.code())
        .collect();
    let stale: Vec<&str> = catalogue::entries()
        .map(|entry| entry.code)
        .filter(|code| !in_source.contains(*code) && !verify.contains(*code))
        .collect();
    assert!(
        stale.is_empty(),
        "catalogue entries for codes no longer written in src/: {stale:?}"
    );
}

#[test]
fn entries_are_unique_and_well_formed() {
    let mut codes = BTreeSet::new();
    for entry in catalogue::entries() {
        assert!(codes.insert(entry.code), "{} twice", entry.code);
        assert!(entry.code.starts_with("runbook::"), "{}", entry.code);
        assert_eq!(entry.code.matches("::").count(), 2, "{}", entry.code);
        assert!(
            entry.code[9..]
                .chars()
                .all(|character| character.is_ascii_lowercase()
                    || character.is_ascii_digit()
                    || character == '_'
                    || character == ':'),
            "{}",
            entry.code
        );
        // The verifier's fixes are its help lines, made sentences when shown.
        let fix = docs::sentence(entry.fix);
        for (what, text) in [
            ("summary", entry.summary),
            ("cause", entry.cause),
            ("fix", fix.as_str()),
        ] {
            assert!(!text.trim().is_empty(), "{}: empty {what}", entry.code);
            assert!(
                text.trim_end().ends_with('.') || text.trim_end().ends_with(".)"),
                "{}: the {what} is not a sentence: {text}",
                entry.code
            );
        }
        assert!(!entry.summary.contains('\n'), "{}: summary", entry.code);
        assert!(
            entry.summary.len() <= 120,
            "{}: summary too long",
            entry.code
        );
        // No lint code hides a catalogued one.
        assert!(registry::rule(entry.code).is_none());
    }
}

#[test]
fn every_code_is_explained_with_and_without_its_prefix() {
    for entry in catalogue::entries() {
        let text = explanation(entry.code).expect("explained");
        assert!(text.starts_with(&format!("{}\n", entry.code)), "{text}");
        assert!(text.contains("## What causes it"), "{text}");
        assert!(text.contains("## How to fix it"), "{text}");
        let short = &entry.code["runbook::".len()..];
        assert_eq!(explanation(short).as_deref(), Some(text.as_str()));
        assert_eq!(
            explanation(&entry.code.to_uppercase()).as_deref(),
            Some(text.as_str())
        );
        for line in text.lines().filter(|line| !line.starts_with("runbook ")) {
            // Prose is wrapped; example files and commands are shown as written.
            let in_example = entry.example.as_ref().is_some_and(|example| {
                example.command.contains(line)
                    || example.runbook.is_some_and(|source| source.contains(line))
                    || example
                        .file
                        .is_some_and(|(_, source)| source.contains(line))
            });
            assert!(
                line.chars().count() <= 80 || in_example,
                "{}: line too long: {line}",
                entry.code
            );
        }
    }
}

/// Runs an example's command with `sh` in an empty directory holding its
/// files, the built binary first on `PATH`; returns stdout and stderr together.
fn run_example(example: &Example) -> String {
    let dir = tempfile::tempdir().expect("temp dir");
    if let Some(source) = example.runbook {
        std::fs::write(
            dir.path().join(Example::RUNBOOK_FILE),
            docs::file_text(source),
        )
        .expect("write the runbook");
    }
    if let Some((name, text)) = example.file {
        std::fs::write(dir.path().join(name), docs::file_text(text)).expect("write the file");
    }
    let binary = assert_cmd::cargo::cargo_bin("runbook");
    let bin_dir = binary.parent().expect("the binary's folder");
    let path = std::env::join_paths(std::iter::once(bin_dir.to_path_buf()).chain(
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()),
    ))
    .expect("PATH");
    let mut child = Process::new("sh")
        .arg("-c")
        .arg(example.command)
        .current_dir(dir.path())
        .env("PATH", path)
        .env("NO_COLOR", "1")
        .env_remove("RUNBOOK_API_KEY")
        .env_remove("RUNBOOK_SIM_API_KEY")
        .env_remove("SMC_API_KEY")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("sh runs");
    // Read both pipes while the command runs: an example may print a lot.
    let read = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = pipe.read_to_end(&mut bytes);
            bytes
        })
    };
    let stdout = read(Box::new(child.stdout.take().expect("stdout")));
    let stderr = read(Box::new(child.stderr.take().expect("stderr")));
    // A watchdog, not a timing assertion: an example that serves forever
    // (a `sim serve` that did start) must not hang the suite.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while child.try_wait().expect("wait").is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("the example did not end: {}", example.command);
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let mut bytes = stdout.join().expect("stdout reader");
    bytes.extend(stderr.join().expect("stderr reader"));
    String::from_utf8_lossy(&bytes).into_owned()
}

#[cfg(unix)]
#[test]
fn every_runnable_example_reports_its_code() {
    let mut ran = 0;
    let mut failures = Vec::new();
    for entry in catalogue::entries() {
        let Some(example) = &entry.example else {
            continue;
        };
        if !example.runnable {
            continue;
        }
        ran += 1;
        let output = run_example(example);
        if !output.contains(entry.code) {
            failures.push(format!(
                "{}: `{}` did not report it:\n{output}",
                entry.code, example.command
            ));
        }
    }
    assert!(ran > 60, "only {ran} examples ran");
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

// ---------------------------------------------------------------- explain

#[test]
fn explanations_as_snapshots() {
    for code in [
        "runbook::syntax::unterminated_string",
        "runbook::resolve::import_cycle",
        "runbook::run::wait_timeout",
        "runbook::run::answers_file",
        "runbook::connector::wrong_key",
        "runbook::verify::two_actives",
    ] {
        let text = explanation(code).expect("catalogued");
        insta::assert_snapshot!(format!("explain_{}", code.replace("::", "_")), text);
    }
}

#[test]
fn explain_command_accepts_codes_with_and_without_prefix() {
    for code in [
        "runbook::run::wait_timeout",
        "run::wait_timeout",
        "run::wait-timeout",
    ] {
        let output = Command::cargo_bin("runbook")
            .expect("binary")
            .args(["explain", code])
            .output()
            .expect("runs");
        assert_eq!(output.status.code(), Some(0), "{code}");
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            stdout.starts_with("runbook::run::wait_timeout\n"),
            "{stdout}"
        );
    }
}

#[test]
fn explain_command_rejects_unknown_codes_with_a_help_line_and_exit_2() {
    let reject = |code: &str| {
        let output = Command::cargo_bin("runbook")
            .expect("binary")
            .args(["explain", code])
            .output()
            .expect("runs");
        assert_eq!(output.status.code(), Some(2), "{code}");
        assert!(output.stdout.is_empty());
        String::from_utf8_lossy(&output.stderr).into_owned()
    };
    insta::assert_snapshot!(
        "explain_unknown_misspelt",
        reject("runbook::syntax::unexpcted")
    );
    insta::assert_snapshot!("explain_unknown_ambiguous", reject("unknown_server"));
    insta::assert_snapshot!("explain_unknown_nothing_close", reject("frobnicate"));
    let rule = reject("RB0003");
    assert!(rule.contains("help: did you mean `RB003`"), "{rule}");
}

#[test]
fn explain_list_names_every_rule_and_code() {
    let output = Command::cargo_bin("runbook")
        .expect("binary")
        .args(["explain", "--list"])
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&output.stdout);
    for rule in registry::RULES {
        assert!(
            stdout.contains(&format!("  {}  {}", rule.code, rule.name)),
            "{}",
            rule.code
        );
    }
    for entry in catalogue::entries() {
        let line = stdout
            .lines()
            .find(|line| line.trim_start().starts_with(&format!("{} ", entry.code)))
            .unwrap_or_else(|| panic!("{} is not listed", entry.code));
        assert!(line.ends_with(entry.summary), "{line}");
    }
    for phase in catalogue::PHASES {
        assert!(
            stdout.contains(&format!("\n{}:\n", phase.title)),
            "{}",
            phase.title
        );
    }
}

#[test]
fn explain_help_examples_work() {
    let commands: Vec<&str> = runbook::cli::examples::EXPLAIN
        .lines()
        .filter_map(|line| line.trim().strip_prefix("runbook "))
        .collect();
    assert!(commands.len() >= 4, "{commands:?}");
    for command in commands {
        let output = Command::cargo_bin("runbook")
            .expect("binary")
            .args(command.split_whitespace())
            .output()
            .expect("runs");
        assert_eq!(output.status.code(), Some(0), "runbook {command}");
        assert!(!output.stdout.is_empty(), "runbook {command}");
    }
}
