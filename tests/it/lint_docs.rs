//! `docs/lint-rules.md` (from the rules' doc comments) and
//! `docs/diagnostics.md` (from the catalogue of `runbook::…` codes) are
//! generated; these tests fail when a committed page is stale. Refresh both
//! with `RUNBOOK_BLESS=1 cargo test --test it lint_docs::`.

use std::path::PathBuf;

use runbook::check::catalogue;
use runbook::check::lint::docs;

/// Compares `docs/NAME` with `generated`, or writes it under `RUNBOOK_BLESS`.
fn check_page(name: &str, generated: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("docs")
        .join(name);
    if std::env::var_os("RUNBOOK_BLESS").is_some() {
        std::fs::write(&path, generated).unwrap_or_else(|_| panic!("write docs/{name}"));
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "docs/{name} is stale: run `{}` and commit it",
        docs::REGENERATE_COMMAND
    );
}

#[test]
fn lint_rules_md_is_up_to_date() {
    check_page("lint-rules.md", &docs::markdown());
}

#[test]
fn diagnostics_md_is_up_to_date() {
    check_page("diagnostics.md", &catalogue::docs::markdown());
}
