//! Generated runbooks for the benchmarks. [`parse_bench_runbook`] is the
//! 1.1 MB runbook that the parse and lint benchmarks both measure;
//! [`generated_runbook`] is a second shape with `choose` prompts and nested
//! `if`s that lints clean.

#![allow(dead_code)]

/// About 1 MB, the size both benchmarks use.
pub const ONE_MEGABYTE: usize = 1024 * 1024;

/// A valid runbook of at least `target_bytes` bytes.
pub fn generated_runbook(target_bytes: usize) -> String {
    let mut text = String::with_capacity(target_bytes + 4096);
    text.push_str(
        "//! Generated for benchmarks.\n\
         runbook generated {\n\
         \x20   title \"Generated runbook\"\n\
         \x20   summary \"Many steps of every kind, for benchmarks.\"\n\
         \x20   param version: version = 7.4.0\n\
         \x20   param max_wait: duration = 30m\n\n\
         \x20   let initial_active = active()\n\
         \x20   let standbys = standbys()\n\n",
    );
    let mut index = 0;
    while text.len() < target_bytes {
        index += 1;
        text.push_str(&format!(
            r#"    /// Step {index} of the generated procedure.
    step {index} step-{index} "Step {index}: stop or exclude the Standby Servers, then verify" {{
        note "Step {index} starts: the Standby Servers are stopped or excluded."
        check count(actives()) == 1 else "There must be exactly one Active server"
        if initial_active.version < version and not initial_active.excluded {{
            for standby in standbys {{
                if standby.running and not standby.excluded {{
                    stop-server(server: standby)
                }} else {{
                    exclude(server: standby)
                }}
            }}
        }} else if count(standbys) == 0 {{
            warning "No Standby Server in step {index}."
        }}
        choose choice-{index} "How should step {index} go on?" {{
            option proceed "Proceed" default {{
                note "Proceeding with step {index}."
            }}
            option skip "Skip" {{
                warning "Step {index} skipped."
            }}
        }}
        wait until all server in servers(): not server.running or server.version >= 7.3 timeout max_wait every 15s
    }}

"#
        ));
    }
    text.push_str(&format!(
        r#"    what-if step-failed "A generated step failed"
        when failed(step-1), failed(step-{index})
    {{
        warning "A generated step failed."
        stop "Stopped after a failure."
    }}
}}
"#
    ));
    text
}

/// A runbook with many steps using every statement family, > 1 MB.
pub fn parse_bench_runbook() -> String {
    let mut text = String::from(
        "//! Generated for the parse benchmark.\n\nrunbook generated {\n    title \"Generated\"\n    summary \"Many steps.\"\n    param version: version = 7.4.0\n    param max_wait: duration = 30m\n    import \"lib/exclude-server.runbook\"\n\n    let active = active()\n    let standbys = standbys()\n\n",
    );
    let mut index = 0;
    while text.len() < 1_100_000 {
        text.push_str(&format!(
            r#"    /// Step {index}: upgrade and check every Standby.
    step {index} upgrade-{index} "Upgrade the Standby Servers, round {index}" within 5m after upgrade-{previous} {{
        note "Round {index}: standbys are upgraded one by one."
        for standby in standbys without active {{
            if not standby.running {{
                start-server(server: standby)
            }} else if standby.excluded and standby.state == STB_NO_REP {{
                call exclude-server(server: standby)
            }} else {{
                set-standby(server: standby, force: true)
            }}
            upgrade(server: standby, version: version)
        }}
        check all s in standbys: s.version >= version and not s.excluded else "round {index} left a Standby behind"
        wait until healthy() and count(actives()) == 1 timeout max_wait every 15s
        confirm verify-{index} "Does everything look right after round {index}?"
    }}

"#,
            previous = if index == 0 { 0 } else { index - 1 },
        ));
        index += 1;
    }
    text.push_str("    what-if broken \"Replication is broken\" when replication-broken during upgrade-0 {\n        stop \"Repair replication first.\"\n    }\n}\n");
    text
}
