//! What an operator sees when a run fails: the runtime diagnostics rendered
//! with a fixed theme and width, as snapshots.

use miette::{GraphicalReportHandler, GraphicalTheme};
use runbook::connect::sim::SimConnector;
use runbook::interp::events::CollectingSink;
use runbook::interp::load::load_text;
use runbook::interp::machine::{self, RunSettings};
use runbook::interp::prompt::OperatorPrompter;
use runbook::interp::RuntimeError;

const RUNBOOK: &str = r#"runbook failing {
    title "Failing on purpose"
    param mode: string = "check"

    let active = active()

    step 1 look "Look at the Active" {
        if mode == "check" {
            check not active.running else "The Active must be stopped first"
        }
        if mode == "wait" {
            wait until active.excluded timeout 5m every 1m
        }
        if mode == "refused" {
            exclude(server: active)
        }
        if mode == "prompt" {
            confirm go-on "Go on?"
        }
    }

    what-if look-failed "The look failed" when two-actives during look {
        stop "never"
    }
}
"#;

async fn failure(mode: &str) -> RuntimeError {
    let program = load_text("failing.runbook", RUNBOOK).expect("the runbook loads");
    let connector = SimConnector::new(Default::default());
    let mut sink = CollectingSink::default();
    let mut prompter = OperatorPrompter::non_interactive(None, false);
    let settings = RunSettings {
        params: [("mode".to_string(), mode.to_string())].into(),
        ..RunSettings::default()
    };
    let report = machine::run(&program, &connector, &mut sink, &mut prompter, settings).await;
    report.error.expect("the run failed")
}

fn render(error: &RuntimeError) -> String {
    let mut out = String::new();
    GraphicalReportHandler::new_themed(GraphicalTheme::unicode_nocolor())
        .with_width(80)
        .with_links(false)
        .render_report(&mut out, error)
        .unwrap();
    out
}

#[tokio::test]
async fn runtime_diagnostics_show_source_state_and_what_to_do() {
    for mode in ["check", "wait", "refused", "prompt"] {
        let error = failure(mode).await;
        insta::assert_snapshot!(format!("runtime_{mode}"), render(&error));
    }
}
