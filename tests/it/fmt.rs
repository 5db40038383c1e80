//! The formatter: snapshots over `tests/fixtures/fmt` (unformatted inputs
//! with comments in awkward places), and the round-trip properties over every
//! fixture and shipped runbook: formatting keeps the AST (modulo spans and
//! trailing whitespace in comments) and is idempotent. A proptest re-indents
//! and pads the shipped runbooks and checks the output does not change.

use std::path::{Path, PathBuf};

use proptest::prelude::*;
use runbook::check::project::find_runbooks;
use runbook::fmt::format_source;
use runbook::syntax::{ast, parse};

use crate::support::manifest_dir;

/// The tree without spans, comment and doc text without trailing
/// whitespace (the formatter trims it).
fn normalized(file: &ast::File) -> serde_json::Value {
    fn trim_texts(value: &mut serde_json::Value) {
        match value {
            serde_json::Value::Object(map) => {
                for (key, item) in map.iter_mut() {
                    if key == "text" {
                        if let serde_json::Value::String(text) = item {
                            *text = text
                                .lines()
                                .map(str::trim_end)
                                .collect::<Vec<_>>()
                                .join("\n");
                            continue;
                        }
                    }
                    trim_texts(item);
                }
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(trim_texts),
            _ => {}
        }
    }
    let mut value = ast::without_spans(file);
    trim_texts(&mut value);
    value
}

/// The `.runbook` files below `dir`, found as `runbook check` finds them.
fn runbook_files(dir: &Path, files: &mut Vec<PathBuf>) {
    find_runbooks(dir, files, &mut Vec::new());
}

/// Checks the round-trip properties on one text; `Err` says what broke.
fn check_round_trip(name: &str, source: &str) -> Result<(), String> {
    let Ok(original) = parse(source) else {
        return Ok(());
    };
    let formatted =
        format_source(source).map_err(|errors| format!("{name}: does not parse: {errors:?}"))?;
    let reparsed = parse(&formatted).map_err(|errors| {
        format!(
            "{name}: the formatted text does not parse: {errors:?}\n--- formatted:\n{formatted}"
        )
    })?;
    if normalized(&original) != normalized(&reparsed) {
        return Err(format!(
            "{name}: formatting changed the AST\n--- before:\n{}\n--- after:\n{}",
            serde_json::to_string_pretty(&normalized(&original)).unwrap_or_default(),
            serde_json::to_string_pretty(&normalized(&reparsed)).unwrap_or_default()
        ));
    }
    let twice = format_source(&formatted).map_err(|errors| format!("{name}: {errors:?}"))?;
    if twice != formatted {
        return Err(format!(
            "{name}: formatting is not idempotent\n--- once:\n{formatted}\n--- twice:\n{twice}"
        ));
    }
    Ok(())
}

#[test]
fn fixtures_format_as_snapshotted() {
    insta::glob!("..", "fixtures/fmt/*.runbook", |path| {
        let source = std::fs::read_to_string(path).expect("fixture is readable");
        let formatted = format_source(&source).expect("fixture parses");
        insta::assert_snapshot!(formatted);
    });
}

#[test]
fn formatting_keeps_the_ast_and_is_idempotent_on_every_fixture_and_shipped_runbook() {
    let mut files = Vec::new();
    runbook_files(&manifest_dir().join("tests/fixtures"), &mut files);
    runbook_files(&manifest_dir().join("runbooks"), &mut files);
    let mut parsed = 0;
    let mut failures = Vec::new();
    for path in &files {
        let source = std::fs::read_to_string(path).expect("readable");
        if parse(&source).is_ok() {
            parsed += 1;
        }
        if let Err(failure) = check_round_trip(&path.display().to_string(), &source) {
            failures.push(failure);
        }
    }
    assert!(
        parsed >= 25,
        "only {parsed} files parsed: are the fixtures there?"
    );
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn shipped_runbooks_are_formatted() {
    let mut files = Vec::new();
    runbook_files(&manifest_dir().join("runbooks"), &mut files);
    assert!(!files.is_empty());
    for path in files {
        let source = std::fs::read_to_string(&path).expect("readable");
        let formatted = format_source(&source)
            .unwrap_or_else(|errors| panic!("{}: {errors:?}", path.display()));
        assert!(
            formatted == source,
            "{} is not formatted: run `cargo run -- fmt runbooks/`",
            path.display()
        );
    }
}

#[test]
fn comments_stay_next_to_their_code() {
    let source = "runbook r {\n  title \"t\" // why\n  // before the step\n  step s \"S\" {\n    note \"n\" // trailing\n  }\n}\n";
    let formatted = format_source(source).expect("parses");
    assert_eq!(
        formatted,
        "runbook r {\n    title \"t\" // why\n\n    // before the step\n    step s \"S\" {\n        note \"n\" // trailing\n    }\n}\n"
    );
}

#[test]
fn files_with_syntax_errors_are_refused() {
    let errors = format_source("runbook r {\n    step {\n}\n").expect_err("does not parse");
    assert!(!errors.is_empty());
}

/// Whether each line of `source` starts (and ends) outside a string literal.
fn lines_outside_strings(source: &str) -> Vec<(bool, bool)> {
    let mut in_string = false;
    let mut in_comment = false;
    let mut escaped = false;
    let mut lines = Vec::new();
    let mut starts_outside = true;
    for c in source.chars() {
        if c == '\n' {
            lines.push((starts_outside, !in_string));
            in_comment = false;
            starts_outside = !in_string;
            continue;
        }
        if in_comment {
            continue;
        }
        if in_string {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
        } else if c == '"' {
            in_string = true;
        } else if c == '/' {
            // A `//` comment runs to the end of the line; one `/` is not code here.
            in_comment = true;
        }
    }
    lines.push((starts_outside, !in_string));
    lines
}

/// `source` with each line (outside strings) re-indented by `indents` and
/// padded with trailing blanks, and, when `blank_lines`, extra empty lines.
fn perturb(source: &str, seeds: &[(u8, u8)], blank_lines: bool) -> String {
    let outside = lines_outside_strings(source);
    let mut out = String::new();
    for (index, line) in source.split('\n').enumerate() {
        let (seed_indent, seed_extra) = seeds
            .get(index % seeds.len().max(1))
            .copied()
            .unwrap_or((0, 0));
        let (starts_outside, ends_outside) = outside.get(index).copied().unwrap_or((false, false));
        let mut text = line.to_string();
        if starts_outside {
            let indent = match seed_indent % 4 {
                0 => String::new(),
                1 => "\t".to_string(),
                2 => " ".repeat(usize::from(seed_indent % 13)),
                _ => " \t  ".to_string(),
            };
            text = format!("{indent}{}", text.trim_start());
        }
        if ends_outside && seed_extra % 3 == 0 {
            text.push_str("  \t");
        }
        out.push_str(&text);
        if index + 1 < outside.len() {
            out.push('\n');
            if blank_lines && starts_outside && seed_extra % 5 == 0 {
                out.push('\n');
            }
        }
    }
    out
}

fn shipped_sources() -> Vec<(String, String)> {
    let mut files = Vec::new();
    runbook_files(&manifest_dir().join("runbooks"), &mut files);
    runbook_files(&manifest_dir().join("tests/fixtures/fmt"), &mut files);
    files
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).expect("readable");
            (path.display().to_string(), text)
        })
        .collect()
}

proptest! {
    #![proptest_config(crate::support::proptest_config(48))]

    #[test]
    fn indentation_and_trailing_blanks_do_not_change_the_output(
        pick in any::<prop::sample::Index>(),
        seeds in prop::collection::vec(any::<(u8, u8)>(), 1..40),
    ) {
        let sources = shipped_sources();
        let (name, source) = &sources[pick.index(sources.len())];
        let perturbed = perturb(source, &seeds, false);
        let expected = format_source(source).expect("parses");
        let actual = format_source(&perturbed)
            .map_err(|errors| TestCaseError::fail(format!("{name}: perturbed text does not parse: {errors:?}\n{perturbed}")))?;
        prop_assert_eq!(actual, expected);
    }

    #[test]
    fn extra_blank_lines_keep_the_ast_and_idempotence(
        pick in any::<prop::sample::Index>(),
        seeds in prop::collection::vec(any::<(u8, u8)>(), 1..40),
    ) {
        let sources = shipped_sources();
        let (name, source) = &sources[pick.index(sources.len())];
        let perturbed = perturb(source, &seeds, true);
        prop_assert!(parse(&perturbed).is_ok(), "{}: perturbed text does not parse", name);
        check_round_trip(name, &perturbed).map_err(TestCaseError::fail)?;
    }
}

#[test]
fn the_layout_example_in_the_docs_is_formatted() {
    let docs = std::fs::read_to_string(manifest_dir().join("docs/tools.md"))
        .expect("docs/tools.md is readable");
    let mut examples = 0;
    for block in docs.split("```runbook\n").skip(1) {
        let example = block.split("```").next().unwrap_or_default();
        let formatted = format_source(example)
            .unwrap_or_else(|errors| panic!("docs example does not parse: {errors:?}"));
        assert_eq!(
            formatted, example,
            "the example in docs/tools.md is not in the canonical layout"
        );
        examples += 1;
    }
    assert!(examples >= 1);
}

#[test]
fn crlf_line_endings_and_a_byte_order_mark_give_the_same_output() {
    let mut compared = 0;
    for (name, source) in shipped_sources() {
        if lines_outside_strings(&source)
            .iter()
            .any(|(starts_outside, _)| !starts_outside)
        {
            // A string that spans lines would keep its `\r`: not comparable.
            continue;
        }
        let expected = format_source(&source).expect("parses");
        let crlf = source.replace('\n', "\r\n");
        assert_eq!(
            format_source(&crlf).expect("CRLF parses"),
            expected,
            "{name} with CRLF"
        );
        let bom = format!("\u{feff}{source}");
        assert_eq!(
            format_source(&bom).expect("BOM parses"),
            expected,
            "{name} with a BOM"
        );
        compared += 1;
    }
    assert!(compared >= 10, "only {compared} files compared");
}
