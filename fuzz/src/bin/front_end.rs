//! AFL++ target: every input goes through decode, parse, resolve, lint and
//! (when it parses) the formatter, which must give a text that parses again
//! and formats to itself. Any panic, stack overflow or hang is a crash or a
//! timeout for AFL. See docs/performance.md, "Fuzzing".

use runbook::check::lint::LintConfig;
use runbook::check::project::lint_program;
use runbook::fmt::format_source;
use runbook::syntax::{check_source, decode, parse};

fn main() {
    afl::fuzz!(|bytes: &[u8]| {
        let Ok(text) = decode(bytes) else {
            return;
        };
        let (_workspace, checked) = check_source("fuzz.runbook", text);
        if let Some(program) = &checked.program {
            let _ = lint_program(program, &LintConfig::default());
        }
        if parse(text).is_ok() {
            let Ok(formatted) = format_source(text) else {
                panic!("parse succeeded but fmt refused");
            };
            let Ok(again) = format_source(&formatted) else {
                panic!("fmt output does not parse");
            };
            assert_eq!(again, formatted, "fmt is not idempotent");
        }
    });
}
