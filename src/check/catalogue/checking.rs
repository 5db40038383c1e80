//! The codes of `runbook check` itself (suppression comments, `runbook.toml`,
//! unreadable paths) and of the small commands (`runbook show`).

use super::{Entry, Example, Phase, Severity};

/// `runbook check`'s own codes (its lint rules are documented in `docs/lint-rules.md`).
pub static PHASE: Phase = Phase {
    name: "check",
    title: "The linter's own codes",
    intro: "Reported by `runbook check` about its inputs rather than about a runbook's \
procedure: suppression comments, the `runbook.toml` that configures rule severities, and \
paths that cannot be read. The lint rules themselves (`RB001`...) are documented in \
[lint-rules.md](lint-rules.md).",
    entries: CHECK,
};

/// Codes of the commands that are not part of the pipeline.
pub static COMMANDS: Phase = Phase {
    name: "commands",
    title: "Other commands",
    intro: "Reported by commands that only read what ships with the binary.",
    entries: OTHER_COMMANDS,
};

static CHECK: &[Entry] = &[
    Entry {
        code: "runbook::lint::unknown_code",
        severity: Severity::Warning,
        summary: "A suppression comment `// allow(...)` names a code or rule that does not exist.",
        cause: "Suppression comments take lint codes (`RB003`) or rule names \
(`wait-without-timeout`), separated by commas. An unknown one suppresses nothing, so the \
finding it was meant for is still reported.",
        example: Some(Example::check(
            r#"
runbook demo {
    title "Demo"
    wait until healthy() // allow(RB0003)
}
"#,
        )),
        fix: "Correct the code (the help line suggests the closest rule) or remove it. \
`runbook explain --list` lists every rule.",
    },
    Entry {
        code: "runbook::config::unknown_code",
        severity: Severity::Warning,
        summary: "The `[lint] severity` table of `runbook.toml` names a code or rule that does \
not exist.",
        cause: "`runbook check` reads the `runbook.toml` of the checked directory or its nearest \
ancestor. A key of its `[lint] severity` table is neither a lint code nor a rule name; the \
entry is ignored and the rest of the file applies.",
        example: Some(
            Example::check(
                r#"
runbook demo {
    title "Demo"
}
"#,
            )
            .with_file(
                "runbook.toml",
                r#"
[lint]
severity = { RB999 = "error" }
"#,
            ),
        ),
        fix: "Correct the key (the help line suggests the closest rule) or remove it. \
`runbook explain --list` lists every rule.",
    },
    Entry {
        code: "runbook::config::invalid_level",
        severity: Severity::Error,
        summary: "A level in the `[lint] severity` table of `runbook.toml` is not a level.",
        cause: "A rule's level is one of \"error\", \"warning\", \"info\" or \"off\".",
        example: Some(
            Example::check(
                r#"
runbook demo {
    title "Demo"
}
"#,
            )
            .with_file(
                "runbook.toml",
                r#"
[lint]
severity = { RB003 = "loud" }
"#,
            ),
        ),
        fix: "Write one of \"error\", \"warning\", \"info\" or \"off\", in quotes.",
    },
    Entry {
        code: "runbook::config::syntax",
        severity: Severity::Error,
        summary: "`runbook.toml` is not valid TOML, or its `[lint]` table has the wrong shape.",
        cause: "The file cannot be read as TOML (a missing quote, a bare word as a value) or its \
`[lint]` table does not have the expected keys and types: `enabled` (a boolean) and \
`severity` (a table of rule → level).",
        example: Some(
            Example::check(
                r#"
runbook demo {
    title "Demo"
}
"#,
            )
            .with_file(
                "runbook.toml",
                r#"
[lint]
severity = { RB003 = error }
"#,
            ),
        ),
        fix:
            "Write the table as `[lint]` with `severity = { RB003 = \"error\", RB009 = \"off\" }` \
(levels are quoted strings); see the \"Configuring severities\" section of \
`docs/lint-rules.md`.",
    },
    Entry {
        code: "runbook::io::unreadable",
        severity: Severity::Error,
        summary: "A path given to `runbook check` (or a `runbook.toml`) cannot be read.",
        cause: "The path does not exist, is not readable, is a pipe, a socket or a device \
(never opened: reading it could block forever), or names neither a file, a directory \
nor a shipped runbook; a near miss of a shipped runbook's name gets a did-you-mean. \
`runbook check` (and `runbook fmt`) then exits 2 (the other findings are still reported).",
        example: Some(Example::command(
            "runbook check missing.runbook --format json",
        )),
        fix: "Check the path and its permissions; `runbook list` names the shipped runbooks.",
    },
    Entry {
        code: "runbook::check::error",
        severity: Severity::Error,
        summary: "A diagnostic without a code of its own was reported by `runbook check`.",
        cause: "Every diagnostic of the parser and the resolver has a code; this one is the \
fallback `runbook check` uses if one ever comes without, so that JSON and SARIF output \
always carry a code. Seeing it is a bug of `runbook`.",
        example: None,
        fix: "Read the message for the problem itself, and report the input that produced it.",
    },
];

static OTHER_COMMANDS: &[Entry] = &[
    Entry {
        code: "runbook::explain::unknown_code",
        severity: Severity::Error,
        summary: "`runbook explain CODE` names no diagnostic code.",
        cause: "CODE is neither a lint rule (`RB003`, or its name `wait-without-timeout`) nor a \
`runbook::…` code of this page (written with or without the `runbook::` prefix). \
`runbook explain` exits 2.",
        example: Some(Example::command("runbook explain RB0003")),
        fix: "Use the code as a diagnostic printed it; the help line suggests the closest ones, \
and `runbook explain --list` lists them all.",
    },
    Entry {
        code: "runbook::run::unknown_runbook",
        severity: Severity::Error,
        summary: "A RUNBOOK argument is neither a file nor a shipped runbook.",
        cause: "`run`, `plan`, `verify`, `graph` and `show` take a path to a `.runbook` file or \
the name of a runbook shipped in the binary (`upgrade-with-downtime`, or a procedure by its \
path, `lib/exclude-server`). No file has that path and no shipped runbook that name. The \
help line suggests the closest shipped name. The command exits 2.",
        example: Some(Example::command("runbook show upgrade-with-downtim")),
        fix: "Use the suggested name, a name from `runbook list`, or the path of an existing file.",
    },
    Entry {
        code: "runbook::schema::unknown_schema",
        severity: Severity::Error,
        summary: "`runbook schema NAME` names no published schema.",
        cause: "NAME is not one of the machine outputs with a published JSON Schema \
(`events`, `journal`, `check`, `plan`, `verify`, `list`, `probe`). The help line suggests the \
closest name. `runbook schema` exits 2.",
        example: Some(Example::command("runbook schema event")),
        fix: "Use the suggested name; `runbook schema --list` lists every schema with the \
output it describes.",
    },
];
