//! The report as Markdown (CommonMark with GitHub's tables), for a ticket
//! or a wiki page. Every journal string is escaped: the punctuation that
//! makes inline markup (`` ` `` `*` `_` `[` `]` `~` `\`) is backslash-escaped,
//! HTML's `<` `>` `&` are written as entities (no tag survives), a table
//! cell's `|` cannot end the cell and a line break cannot end the row.
//! Journal strings never start a line, so block markup (`#`, `-`, `1.`)
//! cannot begin.

use std::fmt::Write;

use super::{
    actor, duration, proof_lines, resolution, server_cells, step_name, step_outcome, when, Entry,
    Report, CLUSTER_COLUMNS,
};

/// Escapes `text` for Markdown prose or a table cell: one line, every
/// character that could start markup taken literally.
pub fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '\n' | '\r' => escaped.push(' '),
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '~' => {
                escaped.push('\\');
                escaped.push(character);
            }
            other => escaped.push(other),
        }
    }
    escaped
}

/// An id or a name (a step, a prompt, a code), set in bold and escaped:
/// not as inline code, whose backticks a journal string could close.
fn code(text: &str) -> String {
    format!("**{}**", escape(text))
}

/// The report as a Markdown document.
pub fn render(report: &Report) -> String {
    let mut out = String::new();
    // Writing to a String cannot fail.
    let _ = write_report(&mut out, report);
    out
}

fn write_report(out: &mut String, report: &Report) -> std::fmt::Result {
    let header = &report.header;
    writeln!(out, "# Run report: {}\n", escape(&header.runbook))?;
    writeln!(
        out,
        "Run {} · journal {}\n",
        escape(&header.run_id),
        escape(&report.journal)
    )?;

    writeln!(out, "## Summary\n")?;
    writeln!(out, "| | |\n|---|---|")?;
    let end_message = report
        .end
        .as_ref()
        .map(|end| format!(" — {}", escape(&end.message)))
        .unwrap_or_default();
    writeln!(
        out,
        "| Outcome | **{}**{end_message} |",
        escape(&report.outcome_words())
    )?;
    writeln!(
        out,
        "| Runbook | {} ({}) |",
        escape(&header.runbook),
        escape(&header.runbook_ref)
    )?;
    writeln!(
        out,
        "| Target | {} ({}) |",
        escape(&header.target_description),
        escape(&header.reach.target)
    )?;
    if !header.params.is_empty() {
        let params: Vec<String> = header
            .params
            .iter()
            .map(|(name, value)| format!("{} = {}", escape(name), escape(value)))
            .collect();
        writeln!(out, "| Parameters | {} |", params.join(", "))?;
    }
    if let Some(what_if) = &header.what_if {
        writeln!(out, "| What-if run alone | {} |", escape(what_if))?;
    }
    writeln!(
        out,
        "| Started | {} by {} |",
        escape(&when(&report.started_at)),
        escape(&actor(header.by.as_ref()))
    )?;
    writeln!(
        out,
        "| Ended | {} |",
        report.end.as_ref().map_or_else(
            || String::from("not recorded"),
            |end| escape(&when(&end.ts))
        )
    )?;
    let resumes: Vec<String> = report
        .sessions
        .iter()
        .filter(|session| session.resumed)
        .map(|session| {
            format!(
                "{} by {}",
                escape(&when(&session.ts)),
                escape(&actor(session.by.as_ref()))
            )
        })
        .collect();
    writeln!(
        out,
        "| Resumed | {} |",
        if resumes.is_empty() {
            String::from("never")
        } else {
            format!("{} time(s): {}", resumes.len(), resumes.join("; "))
        }
    )?;
    if let Some(seconds) = report.clock_seconds() {
        writeln!(
            out,
            "| Time on the target's clock | {} |",
            duration(seconds)
        )?;
    }
    writeln!(
        out,
        "| Proof | {} |",
        header.proof.as_ref().map_or_else(
            || String::from("none recorded"),
            |proof| format!("certificate {}", escape(&proof.certificate_sha256))
        )
    )?;
    if report.torn_tail {
        writeln!(
            out,
            "| Journal | its last line was incomplete (the process died mid-write) and is left out |"
        )?;
    }

    writeln!(out, "\n## Timeline\n")?;
    writeln!(
        out,
        "| When | What | Outcome | Duration |\n|---|---|---|---:|"
    )?;
    for entry in &report.timeline {
        match entry {
            Entry::Session(index) => {
                let session = &report.sessions[*index];
                writeln!(
                    out,
                    "| {} | **{} by {}** | | |",
                    escape(&when(&session.ts)),
                    if session.resumed {
                        "Resumed"
                    } else {
                        "Started"
                    },
                    escape(&actor(session.by.as_ref()))
                )?;
            }
            Entry::Step(step) => {
                let title = step
                    .title
                    .as_ref()
                    .map(|title| format!(" — {}", escape(title)))
                    .unwrap_or_default();
                let message = step
                    .message
                    .as_ref()
                    .map(|message| format!(": {}", escape(message)))
                    .unwrap_or_default();
                writeln!(
                    out,
                    "| {} | Step {}{title} | {}{message} | {} |",
                    escape(&when(&step.started)),
                    code(&step_name(&step.key)),
                    step_outcome(step.outcome),
                    step.duration_seconds
                        .map_or_else(|| String::from("—"), duration)
                )?;
            }
            Entry::WhatIf(index) => {
                let what_if = &report.what_ifs[*index];
                writeln!(
                    out,
                    "| {} | What-if {} entered: {} | | |",
                    escape(&when(&what_if.ts)),
                    code(&what_if.name),
                    escape(&what_if.reason)
                )?;
            }
            Entry::WhatIfFinished {
                ts,
                name,
                resolution,
            } => writeln!(
                out,
                "| {} | What-if {} {} | | |",
                escape(&when(ts)),
                code(name),
                super::resolution(Some(*resolution))
            )?,
            Entry::Reanswered { ts, id } => writeln!(
                out,
                "| {} | The answer to {} is asked again (resume --reanswer) | | |",
                escape(&when(ts)),
                code(id)
            )?,
            Entry::Ended(index) => {
                if let Some(end) = &report.sessions[*index].ended {
                    writeln!(
                        out,
                        "| {} | Run {}: {} | {}{} | |",
                        escape(&when(&end.ts)),
                        end.outcome.as_str(),
                        escape(&end.message),
                        end.outcome.as_str(),
                        if end.resumable { " (resumable)" } else { "" }
                    )?;
                }
            }
        }
    }

    writeln!(out, "\n## Prompts and answers\n")?;
    if report.prompts.is_empty() {
        writeln!(out, "No prompt was answered.")?;
    } else {
        writeln!(
            out,
            "| When | Step | Prompt | Answer | By | How |\n|---|---|---|---|---|---|"
        )?;
        for prompt in &report.prompts {
            let text = prompt
                .text
                .as_ref()
                .map(|text| format!(": {}", escape(text)))
                .unwrap_or_default();
            writeln!(
                out,
                "| {} | {} | {}{text} | **{}** | {} | {} |",
                escape(&when(&prompt.ts)),
                prompt
                    .step
                    .as_ref()
                    .map_or_else(|| String::from("—"), |step| code(&step_name(step))),
                code(&prompt.id),
                escape(&prompt.answer),
                escape(prompt.by.as_deref().unwrap_or("not recorded")),
                escape(prompt.source.as_deref().unwrap_or("not recorded"))
            )?;
        }
    }

    writeln!(out, "\n## What-ifs entered\n")?;
    if report.what_ifs.is_empty() {
        writeln!(out, "No What-if was entered.")?;
    } else {
        writeln!(
            out,
            "| When | What-if | Why | Step interrupted | How it ended |\n|---|---|---|---|---|"
        )?;
        for what_if in &report.what_ifs {
            writeln!(
                out,
                "| {} | {} | {} | {} | {} |",
                escape(&when(&what_if.ts)),
                code(&what_if.name),
                escape(&what_if.reason),
                what_if
                    .step
                    .as_ref()
                    .map_or_else(|| String::from("—"), |step| code(&step_name(step))),
                resolution(what_if.resolution)
            )?;
        }
    }

    writeln!(out, "\n## Time windows\n")?;
    if report.windows.is_empty() {
        writeln!(out, "No step with a time window started.")?;
    } else {
        writeln!(
            out,
            "| When | Step | Measured from the end of | Used | Limit | Within? |\n|---|---|---|---:|---:|---|"
        )?;
        for window in &report.windows {
            writeln!(
                out,
                "| {} | {} | {}{} | {} | {} | {} |",
                escape(&when(&window.ts)),
                code(&step_name(&window.step)),
                code(&window.after),
                if window.across_resume {
                    " (before a resume)"
                } else {
                    ""
                },
                duration(window.elapsed_seconds),
                window
                    .limit_seconds
                    .map_or_else(|| String::from("not a literal duration"), duration),
                if window.exceeded() {
                    "**exceeded**"
                } else if window.limit_seconds.is_some() {
                    "yes"
                } else {
                    "—"
                }
            )?;
        }
    }

    writeln!(out, "\n## Warnings and runtime guard findings\n")?;
    if report.warnings.is_empty() {
        writeln!(out, "No warning.")?;
    } else {
        let guard = report
            .warnings
            .iter()
            .filter(|warning| warning.is_guard())
            .count();
        writeln!(
            out,
            "{} warning(s), {guard} of them from the runtime guard.\n",
            report.warnings.len()
        )?;
        writeln!(out, "| When | Step | Code | Message |\n|---|---|---|---|")?;
        for warning in &report.warnings {
            writeln!(
                out,
                "| {} | {} | {} | {} |",
                escape(&when(&warning.ts)),
                warning
                    .step
                    .as_ref()
                    .map_or_else(|| String::from("—"), |step| code(&step_name(step))),
                code(&warning.code),
                escape(&warning.message)
            )?;
        }
    }

    write_cluster(out, report)?;

    writeln!(out, "\n## Proof\n")?;
    match &header.proof {
        Some(proof) => {
            writeln!(
                out,
                "The run was started under this approved proof certificate:\n"
            )?;
            for (label, value) in proof_lines(proof) {
                writeln!(out, "- {label}: {}", escape(&value))?;
            }
        }
        None => writeln!(
            out,
            "Proof: none recorded (the run was not started with --require-proof)."
        )?,
    }

    writeln!(out, "\n## Runbook sources\n")?;
    writeln!(out, "| File | SHA-256 |\n|---|---|")?;
    for source in &header.sources {
        writeln!(
            out,
            "| {} | {} |",
            code(&source.file),
            escape(&source.sha256)
        )?;
    }
    Ok(())
}

fn write_cluster(out: &mut String, report: &Report) -> std::fmt::Result {
    let rows = report.cluster_rows();
    let head = format!(
        "| {} |\n|{}",
        CLUSTER_COLUMNS.join(" | "),
        "---|".repeat(CLUSTER_COLUMNS.len())
    );
    writeln!(out, "\n## Cluster before and after\n")?;
    writeln!(
        out,
        "A value in **bold** with \"(was …)\" differs from the start of the run.\n"
    )?;
    writeln!(out, "### Before ({})\n", escape(&when(&report.started_at)))?;
    writeln!(out, "{head}")?;
    for (name, before, _) in &rows {
        if let Some(before) = before {
            let cells: Vec<String> = server_cells(before).iter().map(|c| escape(c)).collect();
            writeln!(out, "| {} | {} |", escape(name), cells.join(" | "))?;
        }
    }
    let Some((_, at_end)) = &report.after else {
        writeln!(
            out,
            "\n### After\n\nThe journal holds no observation of the cluster after the start."
        )?;
        return Ok(());
    };
    let when_after = match (&report.end, at_end) {
        (Some(end), true) => format!(" ({})", escape(&when(&end.ts))),
        (_, false) => String::from(" (as last observed by a step)"),
        _ => String::new(),
    };
    writeln!(out, "\n### After{when_after}\n")?;
    writeln!(out, "{head}")?;
    for (name, before, after) in &rows {
        let Some(after) = after else {
            writeln!(
                out,
                "| **{}** | **not seen at the end** | | | | |",
                escape(name)
            )?;
            continue;
        };
        let was = before.map(server_cells);
        let cells: Vec<String> = server_cells(after)
            .iter()
            .enumerate()
            .map(|(index, cell)| match was.as_ref().map(|was| &was[index]) {
                Some(old) if old != cell => {
                    format!("**{}** (was {})", escape(cell), escape(old))
                }
                _ => escape(cell),
            })
            .collect();
        let name = if before.is_none() {
            format!("**{}** (not there before)", escape(name))
        } else {
            escape(name)
        };
        writeln!(out, "| {name} | {} |", cells.join(" | "))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn markup_tags_pipes_and_line_breaks_are_taken_literally() {
        assert_eq!(
            escape("<script>x</script> | *a* _b_ `c` [d](e) \\ ~f~\nnext"),
            "&lt;script&gt;x&lt;/script&gt; \\| \\*a\\* \\_b\\_ \\`c\\` \\[d\\](e) \\\\ \\~f\\~ next"
        );
        assert_eq!(escape("mgt-1 7.4.0 (was 7.3.4)"), "mgt-1 7.4.0 (was 7.3.4)");
    }
}
