//! One fixture folder per rule (`tests/fixtures/lint/CODE-NAME/`): `bad.runbook`
//! must raise the rule (its rendered findings are snapshotted) and
//! `good.runbook` must lint clean.

use std::path::Path;

use runbook::check::lint::{registry, LintConfig};

use crate::support;

fn fixture_code(path: &Path) -> String {
    let folder = path
        .parent()
        .and_then(Path::file_name)
        .and_then(|name| name.to_str())
        .unwrap_or_default();
    folder.split('-').next().unwrap_or_default().to_owned()
}

fn display_name(path: &Path) -> String {
    let folder = path
        .parent()
        .and_then(Path::file_name)
        .and_then(|name| name.to_str())
        .unwrap_or_default();
    let file = path
        .file_name()
        .and_then(|name| name.to_str())
        .unwrap_or_default();
    format!("{folder}/{file}")
}

#[test]
fn bad_fixtures_raise_their_rule() {
    insta::glob!("..", "fixtures/lint/*/bad.runbook", |path| {
        let code = fixture_code(path);
        let (text, findings) = support::lint::lint_path(path, &LintConfig::default());
        assert!(
            findings.iter().any(|finding| finding.code == code),
            "{} does not raise {code}: {findings:#?}",
            path.display()
        );
        insta::assert_snapshot!(support::lint::render(&display_name(path), &text, &findings));
    });
}

#[test]
fn good_fixtures_lint_clean() {
    insta::glob!("..", "fixtures/lint/*/good.runbook", |path| {
        let (_, findings) = support::lint::lint_path(path, &LintConfig::default());
        assert!(findings.is_empty(), "{}: {findings:#?}", path.display());
    });
}

#[test]
fn every_rule_has_a_bad_and_a_good_fixture() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/lint");
    for rule in registry::RULES {
        let folder = root.join(format!("{}-{}", rule.code, rule.name));
        for file in ["bad.runbook", "good.runbook"] {
            assert!(
                folder.join(file).is_file(),
                "missing fixture {}/{file}",
                folder.display()
            );
        }
    }
}
