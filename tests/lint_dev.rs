use runbook::check::imports::Callables;
use runbook::check::lint::{lint, LintConfig};
#[test]
fn dev() {
    for path in ["runbooks/upgrade-with-downtime.runbook","runbooks/upgrade-no-downtime.runbook","runbooks/upgrade-preparation.runbook","runbooks/lib/init-standby.runbook","runbooks/lib/recover-split-brain.runbook","runbooks/lib/recover-activation-wizard.runbook","runbooks/lib/force-activation.runbook","runbooks/lib/set-standby.runbook","runbooks/lib/exclude-server.runbook","runbooks/lib/backup.runbook"] {
        let text = std::fs::read_to_string(path).unwrap();
        let file = match runbook::syntax::parse(&text) { Ok(f) => f, Err(e) => { println!("{path}: parse error {e:?}"); continue; } };
        let callables = Callables::load(std::path::Path::new(path), &file);
        let map = callables.by_name();
        for d in lint(&file, &text, &map, &LintConfig::default()) {
            println!("{path}: {} {} @{}", d.code, d.message, d.span.offset());
        }
    }
}
