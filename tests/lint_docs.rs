//! `docs/lint-rules.md` is generated from the rules' doc comments; this test
//! fails when the committed file is stale. Refresh it with
//! `RUNBOOK_BLESS=1 cargo test --test lint_docs`.

use std::path::PathBuf;

use runbook::check::lint::docs;

#[test]
fn lint_rules_md_is_up_to_date() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/lint-rules.md");
    let generated = docs::markdown();
    if std::env::var_os("RUNBOOK_BLESS").is_some() {
        std::fs::write(&path, &generated).expect("write docs/lint-rules.md");
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "docs/lint-rules.md is stale: run `{}` and commit it",
        docs::REGENERATE_COMMAND
    );
}
