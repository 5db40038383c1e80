//! The report as one self-contained HTML page: the CSS is inline, there is
//! no script, no font, image or style sheet from anywhere, and a Content
//! Security Policy forbids loading any (`default-src 'none'`), so the page
//! opens the same offline, from a mail attachment or a ticket. Every journal
//! string goes through maud's escaping: a runbook text or an answer holding
//! `<script>` shows as text.

use maud::{html, Markup, PreEscaped, DOCTYPE};

use super::{
    actor, duration, proof_lines, resolution, server_cells, step_name, step_outcome, when, Entry,
    Report, CLUSTER_COLUMNS,
};

/// The page's only style sheet, inline.
const CSS: &str = r#"
:root { color-scheme: light; --ink: #1d2433; --muted: #5b6478; --line: #d5dae3; --band: #f3f5f8;
  --ok: #1a7f37; --bad: #b42318; --warn: #9a6700; --mark: #fff3b0; --mark-line: #d4a72c; }
* { box-sizing: border-box; }
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  color: var(--ink); margin: 0 auto; padding: 24px 32px 48px; max-width: 1100px; background: #fff; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 28px 0 8px; padding-bottom: 4px; border-bottom: 2px solid var(--line); }
h3 { font-size: 15px; margin: 16px 0 6px; }
.subtitle { color: var(--muted); margin: 0 0 16px; }
table { border-collapse: collapse; width: 100%; margin: 6px 0 10px; font-size: 14px; }
th, td { border: 1px solid var(--line); padding: 5px 8px; text-align: left; vertical-align: top; }
th { background: var(--band); font-weight: 600; white-space: nowrap; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.nowrap, .nowrap { white-space: nowrap; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; margin: 8px 0; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; }
td code { white-space: nowrap; }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 13px; }
.hash { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12px; word-break: break-all; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 13px; font-weight: 600; }
.ok { color: var(--ok); } .bad { color: var(--bad); } .warn { color: var(--warn); }
.badge.ok { background: #dafbe1; } .badge.bad { background: #ffebe9; } .badge.warn { background: #fff8c5; }
tr.session td { background: var(--band); font-weight: 600; }
tr.whatif td { background: #fff8c5; }
tr.ended td { background: var(--band); }
td.changed { background: var(--mark); box-shadow: inset 4px 0 0 var(--mark-line); font-weight: 600; }
td.changed .was { display: block; font-weight: 400; color: var(--muted); font-size: 12px; }
.legend { color: var(--muted); font-size: 13px; }
.legend .swatch { display: inline-block; width: 14px; height: 12px; background: var(--mark);
  box-shadow: inset 4px 0 0 var(--mark-line); vertical-align: middle; margin-right: 4px; }
.none { color: var(--muted); font-style: italic; }
.muted { color: var(--muted); }
.cluster { display: grid; grid-template-columns: 1fr 1fr; gap: 16px; }
@media (max-width: 800px) { .cluster { grid-template-columns: 1fr; } }
@media print { body { padding: 0; } h2 { break-after: avoid; } tr { break-inside: avoid; } }
"#;

/// The Content Security Policy of the page: nothing may be loaded or run.
const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'";

/// The report as a complete HTML document.
pub fn render(report: &Report) -> String {
    let header = &report.header;
    let title = format!("Run report: {}", header.runbook);
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta http-equiv="Content-Security-Policy" content=(CSP);
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="generator" content=(format!("runbook {}", env!("CARGO_PKG_VERSION")));
                title { (title) }
                style { (PreEscaped(CSS)) }
            }
            body {
                h1 { (title) }
                p.subtitle {
                    "Run " span.mono { (header.run_id) } " · journal " span.mono { (report.journal) }
                }
                (summary(report))
                (timeline(report))
                (prompts(report))
                (what_ifs(report))
                (windows(report))
                (warnings(report))
                (cluster(report))
                (proof(report))
                (sources(report))
            }
        }
    }
    .into_string()
}

fn outcome_class(report: &Report) -> &'static str {
    match &report.end {
        Some(end) if end.outcome == crate::interp::RunOutcome::Succeeded => "ok",
        Some(end) if end.resumable => "warn",
        _ => "bad",
    }
}

fn summary(report: &Report) -> Markup {
    let header = &report.header;
    let resumes = report
        .sessions
        .iter()
        .filter(|session| session.resumed)
        .count();
    html! {
        section #summary {
            h2 { "Summary" }
            dl.facts {
                dt { "Outcome" }
                dd { span class=(format!("badge {}", outcome_class(report))) { (report.outcome_words()) }
                    @if let Some(end) = &report.end { " — " (end.message) } }
                dt { "Runbook" }
                dd { span.mono { (header.runbook) } " (" span.mono { (header.runbook_ref) } ")" }
                dt { "Target" }
                dd { (header.target_description) " (" span.mono { (header.reach.target) } ")" }
                @if !header.params.is_empty() {
                    dt { "Parameters" }
                    dd { @for (name, value) in &header.params { span.mono { (name) " = " (value) } " " } }
                }
                @if let Some(what_if) = &header.what_if {
                    dt { "What-if run alone" }
                    dd.mono { (what_if) }
                }
                dt { "Started" }
                dd { (when(&report.started_at)) " by " (actor(header.by.as_ref())) }
                dt { "Ended" }
                dd { @match &report.end {
                    Some(end) => { (when(&end.ts)) }
                    None => { span.none { "not recorded" } }
                } }
                dt { "Resumed" }
                dd { @if resumes == 0 { "never" } @else {
                    (resumes) " time" @if resumes > 1 { "s" } ": "
                    @for (index, session) in report.sessions.iter().filter(|session| session.resumed).enumerate() {
                        @if index > 0 { "; " }
                        (when(&session.ts)) " by " (actor(session.by.as_ref()))
                    }
                } }
                @if let Some(seconds) = report.clock_seconds() {
                    dt { "Time on the target's clock" }
                    dd { (duration(seconds)) }
                }
                dt { "Proof" }
                dd { @match &header.proof {
                    Some(proof) => { "certificate " span.hash { (proof.certificate_sha256) } }
                    None => { "none recorded" }
                } }
                @if report.torn_tail {
                    dt { "Journal" }
                    dd.warn { "its last line was incomplete (the process died mid-write) and is left out" }
                }
            }
        }
    }
}

fn step_class(step: &super::Step) -> &'static str {
    match step.outcome {
        Some(crate::interp::journal::JournalOutcome::Ok) => "ok",
        Some(crate::interp::journal::JournalOutcome::Skipped) => "",
        Some(crate::interp::journal::JournalOutcome::Interrupted) => "warn",
        _ => "bad",
    }
}

fn timeline(report: &Report) -> Markup {
    html! {
        section #timeline {
            h2 { "Timeline" }
            table {
                thead { tr { th { "When" } th { "What" } th { "Outcome" } th { "Duration" } } }
                tbody {
                    @for entry in &report.timeline {
                        @match entry {
                            Entry::Session(index) => {
                                @let session = &report.sessions[*index];
                                tr.session {
                                    td.nowrap { (when(&session.ts)) }
                                    td colspan="3" {
                                        @if session.resumed { "Resumed by " } @else { "Started by " }
                                        (actor(session.by.as_ref()))
                                    }
                                }
                            }
                            Entry::Step(step) => {
                                tr.step {
                                    td.nowrap { (when(&step.started)) }
                                    td {
                                        "Step " code { (step_name(&step.key)) }
                                        @if let Some(title) = &step.title { " — " (title) }
                                        @if let Some(message) = &step.message { br; span.muted { (message) } }
                                    }
                                    td class=(step_class(step)) { (step_outcome(step.outcome)) }
                                    td.num { @match step.duration_seconds {
                                        Some(seconds) => { (duration(seconds)) }
                                        None => { "—" }
                                    } }
                                }
                            }
                            Entry::WhatIf(index) => {
                                @let what_if = &report.what_ifs[*index];
                                tr.whatif {
                                    td.nowrap { (when(&what_if.ts)) }
                                    td colspan="3" {
                                        "What-if " code { (what_if.name) } " entered: " (what_if.reason)
                                    }
                                }
                            }
                            Entry::WhatIfFinished { ts, name, resolution } => {
                                tr.whatif {
                                    td.nowrap { (when(ts)) }
                                    td colspan="3" {
                                        "What-if " code { (name) } " "
                                        (super::resolution(Some(*resolution)))
                                    }
                                }
                            }
                            Entry::Reanswered { ts, id } => {
                                tr {
                                    td.nowrap { (when(ts)) }
                                    td colspan="3" { "The answer to " code { (id) } " is asked again (" code { "resume --reanswer" } ")" }
                                }
                            }
                            Entry::Ended(index) => {
                                @if let Some(end) = &report.sessions[*index].ended {
                                    tr.ended {
                                        td.nowrap { (when(&end.ts)) }
                                        td { "Run " (end.outcome.as_str()) ": " (end.message) }
                                        td class=(if end.outcome == crate::interp::RunOutcome::Succeeded { "ok" } else if end.resumable { "warn" } else { "bad" }) {
                                            (end.outcome.as_str()) @if end.resumable { " (resumable)" }
                                        }
                                        td {}
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn prompts(report: &Report) -> Markup {
    html! {
        section #prompts {
            h2 { "Prompts and answers" }
            @if report.prompts.is_empty() { p.none { "No prompt was answered." } } @else {
                table {
                    thead { tr { th { "When" } th { "Step" } th { "Prompt" } th { "Answer" } th { "By" } th { "How" } } }
                    tbody {
                        @for prompt in &report.prompts {
                            tr {
                                td.nowrap { (when(&prompt.ts)) }
                                td { @match &prompt.step { Some(step) => { code { (step_name(step)) } } None => { "—" } } }
                                td { code { (prompt.id) } @if let Some(text) = &prompt.text { br; (text) } }
                                td.answer { strong { (prompt.answer) } }
                                td { (prompt.by.as_deref().unwrap_or("not recorded")) }
                                td.nowrap { (prompt.source.as_deref().unwrap_or("not recorded")) }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn what_ifs(report: &Report) -> Markup {
    html! {
        section #what-ifs {
            h2 { "What-ifs entered" }
            @if report.what_ifs.is_empty() { p.none { "No What-if was entered." } } @else {
                table {
                    thead { tr { th { "When" } th { "What-if" } th { "Why" } th { "Step interrupted" } th { "How it ended" } } }
                    tbody {
                        @for what_if in &report.what_ifs {
                            tr {
                                td.nowrap { (when(&what_if.ts)) }
                                td { code { (what_if.name) } }
                                td { (what_if.reason) }
                                td { @match &what_if.step { Some(step) => { code { (step_name(step)) } } None => { "—" } } }
                                td { (resolution(what_if.resolution)) }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn windows(report: &Report) -> Markup {
    html! {
        section #windows {
            h2 { "Time windows" }
            @if report.windows.is_empty() { p.none { "No step with a time window started." } } @else {
                table {
                    thead { tr { th { "When" } th { "Step" } th { "Measured from the end of" } th { "Used" } th { "Limit" } th { "Within?" } } }
                    tbody {
                        @for window in &report.windows {
                            tr {
                                td.nowrap { (when(&window.ts)) }
                                td { code { (step_name(&window.step)) } }
                                td { code { (window.after) } @if window.across_resume { " (before a resume)" } }
                                td.num { (duration(window.elapsed_seconds)) }
                                td.num { @match window.limit_seconds { Some(limit) => { (duration(limit)) } None => { "not a literal duration" } } }
                                @if window.exceeded() { td.bad { "exceeded" } }
                                @else if window.limit_seconds.is_some() { td.ok { "yes" } }
                                @else { td { "—" } }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn warnings(report: &Report) -> Markup {
    let guard = report
        .warnings
        .iter()
        .filter(|warning| warning.is_guard())
        .count();
    html! {
        section #warnings {
            h2 { "Warnings and runtime guard findings" }
            @if report.warnings.is_empty() { p.none { "No warning." } } @else {
                p { (report.warnings.len()) " warning(s), " (guard) " of them from the runtime guard." }
                table {
                    thead { tr { th { "When" } th { "Step" } th { "Code" } th { "Message" } } }
                    tbody {
                        @for warning in &report.warnings {
                            tr {
                                td.nowrap { (when(&warning.ts)) }
                                td { @match &warning.step { Some(step) => { code { (step_name(step)) } } None => { "—" } } }
                                td class=(if warning.is_guard() { "bad" } else { "warn" }) { code { (warning.code) } }
                                td { (warning.message) }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn cluster(report: &Report) -> Markup {
    let rows = report.cluster_rows();
    html! {
        section #cluster {
            h2 { "Cluster before and after" }
            p.legend { span.swatch {} "a value that differs from the start of the run" }
            div.cluster {
                div #cluster-before {
                    h3 { "Before (" (when(&report.started_at)) ")" }
                    table {
                        thead { tr { @for column in CLUSTER_COLUMNS { th { (column) } } } }
                        tbody {
                            @for (name, before, _) in &rows {
                                @if let Some(before) = before {
                                    tr { td { code { (name) } } @for cell in server_cells(before) { td { (cell) } } }
                                }
                            }
                        }
                    }
                }
                div #cluster-after {
                    h3 { "After"
                        @match &report.after {
                            Some((_, true)) => { @if let Some(end) = &report.end { " (" (when(&end.ts)) ")" } }
                            Some((_, false)) => { " (as last observed by a step)" }
                            None => {}
                        }
                    }
                    @if report.after.is_none() { p.none { "The journal holds no observation of the cluster after the start." } } @else {
                        table {
                            thead { tr { @for column in CLUSTER_COLUMNS { th { (column) } } } }
                            tbody {
                                @for (name, before, after) in &rows {
                                    @if let Some(after) = after {
                                        @let was = before.map(server_cells);
                                        tr {
                                            @if before.is_none() { td.changed { code { (name) } span.was { "not there before" } } }
                                            @else { td { code { (name) } } }
                                            @for (index, cell) in server_cells(after).into_iter().enumerate() {
                                                @match was.as_ref().map(|was| &was[index]) {
                                                    Some(old) if *old != cell => {
                                                        td.changed title=(format!("was {old}")) { (cell) span.was { "was " (old) } }
                                                    }
                                                    _ => { td { (cell) } }
                                                }
                                            }
                                        }
                                    } @else {
                                        tr { td.changed { code { (name) } } td.changed colspan="5" { "not seen at the end" } }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn proof(report: &Report) -> Markup {
    html! {
        section #proof {
            h2 { "Proof" }
            @match &report.header.proof {
                Some(proof) => {
                    p { "The run was started under this approved proof certificate:" }
                    dl.facts { @for (label, value) in proof_lines(proof) { dt { (label) } dd.hash { (value) } } }
                }
                None => { p.none { "Proof: none recorded (the run was not started with " code { "--require-proof" } ")." } }
            }
        }
    }
}

fn sources(report: &Report) -> Markup {
    html! {
        section #sources {
            h2 { "Runbook sources" }
            table {
                thead { tr { th { "File" } th { "SHA-256" } } }
                tbody {
                    @for source in &report.header.sources {
                        tr { td { code { (source.file) } } td.hash { (source.sha256) } }
                    }
                }
            }
        }
    }
}
