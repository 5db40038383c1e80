//! `runbook explain CODE`: the documentation of a diagnostic code (a lint
//! rule by code or name, or one of the linter's own codes). `--list` lists
//! every lint rule.

use crate::check::lint::{docs, registry};

/// `runbook explain`.
#[derive(Debug, Clone, clap::Args)]
pub struct ExplainArgs {
    /// A lint code (`RB003`), a rule name (`wait-without-timeout`) or a
    /// `runbook::lint::`/`runbook::config::` code.
    #[arg(required_unless_present = "list")]
    pub code: Option<String>,
    /// List every lint rule: code, name, default severity, summary.
    #[arg(long, conflicts_with = "code")]
    pub list: bool,
}

/// The linter's own codes (not rules) and what they mean.
const OTHER_CODES: &[(&str, &str)] = &[
    (
        crate::check::lint::suppression::UNKNOWN_CODE,
        "A suppression comment `// allow(...)` names a code or rule that does not exist.\n\n\
Suppression comments take lint codes (`RB003`) or rule names (`wait-without-timeout`), \
separated by commas. `runbook explain --list` lists them.",
    ),
    (
        "runbook::config::unknown_code",
        "The `[lint] severity` table of `runbook.toml` names a code or rule that does not exist.\n\n\
The entry is ignored; the rest of the file applies. `runbook explain --list` lists the rules.",
    ),
    (
        "runbook::config::invalid_level",
        "A level in the `[lint] severity` table of `runbook.toml` is not one of \
\"error\", \"warning\", \"info\" or \"off\".",
    ),
    (
        "runbook::config::syntax",
        "`runbook.toml` is not valid TOML, or its `[lint]` table does not have the expected shape:\n\n\
```toml\n[lint]\nseverity = { RB003 = \"error\", RB009 = \"off\" }\n```",
    ),
    (
        crate::check::report::UNREADABLE,
        "A path given to `runbook check` (or a `runbook.toml`) cannot be read. `runbook check` exits 2.",
    ),
];

/// The text `runbook explain` prints for `code`, if the code is known.
pub fn explanation(code: &str) -> Option<String> {
    if let Some(rule) = registry::rule(code) {
        return Some(docs::explain(rule));
    }
    OTHER_CODES
        .iter()
        .find(|(known, _)| *known == code)
        .map(|(known, text)| format!("{known}\n\n{text}\n"))
}

/// Runs `runbook explain`; returns the exit code.
pub fn explain(args: ExplainArgs) -> i32 {
    if args.list {
        print!("{}", docs::list());
        return 0;
    }
    let code = args.code.unwrap_or_default();
    match explanation(&code) {
        Some(text) => {
            print!("{text}");
            0
        }
        None => {
            eprintln!("error: unknown code `{code}`");
            eprintln!("help: {}", registry::suggestion_help(&code));
            2
        }
    }
}
