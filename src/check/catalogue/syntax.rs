//! `runbook::syntax::*`: the text is not a well-formed runbook
//! ([`crate::syntax::ParseError`]).

use super::{Entry, Example, Phase, Severity};

/// The parse errors.
pub static PHASE: Phase = Phase {
    name: "syntax",
    title: "Parse errors",
    intro: "Reported by every command that reads a runbook (`check`, `run`, `plan`, `verify`, \
`graph`, `fmt`...) when the text is not a well-formed runbook. The file is not checked \
further; `runbook check` exits 1 (2 when the file cannot be read at all).",
    entries: ENTRIES,
};

static ENTRIES: &[Entry] = &[
    Entry {
        code: "runbook::syntax::unexpected",
        severity: Severity::Error,
        summary: "A token does not fit the grammar where it stands.",
        cause: "The parser met a word or a symbol it cannot accept at that point: a missing \
title after a step id, a missing `{` or `}`, a keyword used as a name, a stray comma. The \
label says, in words, what would have fitted; at the end of the file a second label points \
at the `{` that most likely lacks its `}`.",
        example: Some(Example::check(
            r#"
runbook demo {
    title "Demo"
    step one {
        note "a step needs a title"
    }
}
"#,
        )),
        fix: "Write what the label expects at the place it points to. `docs/language.md` \
shows every construct with an example; `runbook fmt` (once the file parses) lays it out.",
    },
    Entry {
        code: "runbook::syntax::unterminated_string",
        severity: Severity::Error,
        summary: "A string literal is never closed.",
        cause: "A `\"` opens a string that runs to the end of the file: the closing quote is \
missing, or a quote inside the text was not escaped. Strings cannot span lines.",
        example: Some(Example::check(
            r#"
runbook demo {
    title "Upgrade the Standby Servers
}
"#,
        )),
        fix: "Add the closing `\"` on the same line; write `\\\"` for a quote inside the text.",
    },
    Entry {
        code: "runbook::syntax::too_deep",
        severity: Severity::Error,
        summary: "Blocks or brackets are nested deeper than the parser accepts (64 levels).",
        cause: "Blocks (`{ }`), parentheses and list brackets nest more than 64 levels. No \
written procedure needs that; the limit keeps the parser's stack bounded on any input.",
        example: Some(Example::command(
            "{ echo 'runbook deep {'; echo '    title \"Deep\"'; \
for i in $(seq 70); do echo 'if true {'; done; \
for i in $(seq 70); do echo '}'; done; echo '}'; } > deep.runbook\n\
runbook check deep.runbook",
        )),
        fix: "Split the runbook into sub-procedures (`procedure` files called with `call`) or \
flatten the conditions with `else if` and `let` bindings.",
    },
    Entry {
        code: "runbook::syntax::expression_too_complex",
        severity: Severity::Error,
        summary: "An expression has more than 128 nested operators.",
        cause: "One expression chains or nests more operators (`not`, `and`, `or`, comparisons, \
`without`...) than the parser accepts. The limit keeps evaluation bounded on any input.",
        example: Some(Example::command(
            "printf 'runbook deep {\\n    title \"Deep\"\\n    check %s true else \"never\"\\n}\\n' \
\"$(yes not | head -n 200 | tr '\\n' ' ')\" > deep.runbook\n\
runbook check deep.runbook",
        )),
        fix: "Split the expression with `let` bindings, or use a quantifier \
(`all standby in standbys(): ...`) instead of spelling out each server.",
    },
    Entry {
        code: "runbook::syntax::too_complex",
        severity: Severity::Error,
        summary: "The grammar engine gave up on the file (its call budget ran out).",
        cause: "The parser bounds the work it does on one file. A file that exhausts that budget \
is almost certainly not a hand-written runbook (generated or corrupted input); the label \
shows where parsing stopped.",
        example: None,
        fix: "Check that the path is the runbook you meant. Split a genuinely large runbook into \
smaller files and sub-procedures (`import` and `call`).",
    },
    Entry {
        code: "runbook::syntax::too_large",
        severity: Severity::Error,
        summary: "The file is larger than the parser accepts (16 MiB).",
        cause: "Runbooks are small text files; a file above 16 MiB is refused before it is read \
as a runbook (a log, an archive or a disk image given by mistake).",
        example: Some(Example::command(
            "head -c 17000000 /dev/zero | tr '\\0' ' ' > big.runbook\n\
runbook check big.runbook",
        )),
        fix: "Check the path. A real procedure this large should be split into files joined \
with `import`.",
    },
    Entry {
        code: "runbook::syntax::invalid_utf8",
        severity: Severity::Error,
        summary: "The file is not valid UTF-8.",
        cause: "A byte sequence is not UTF-8, typically text saved in Latin-1 or Windows-1252 \
(an accented letter in a title or a note). The message gives the byte offset; the label \
points at it when its line is short enough to show.",
        example: Some(Example::command(
            "printf 'runbook demo {\\n    title \"Caf\\351\"\\n}\\n' > example.runbook\n\
runbook check example.runbook",
        )),
        fix: "Save the file as UTF-8 (e.g. `iconv -f latin1 -t utf-8 old.runbook > new.runbook`).",
    },
    Entry {
        code: "runbook::syntax::binary",
        severity: Severity::Error,
        summary: "The file contains NUL bytes: it is a binary file, not a runbook.",
        cause: "A NUL byte never occurs in a text file: the path names an executable, an \
archive, a UTF-16 file or another binary file.",
        example: Some(Example::command(
            "printf 'runbook\\000' > example.runbook\nrunbook check example.runbook",
        )),
        fix: "Check the path. A runbook is a UTF-8 text file ending in `.runbook`; a UTF-16 \
file must be converted to UTF-8.",
    },
    Entry {
        code: "runbook::syntax::empty",
        severity: Severity::Error,
        summary: "The file holds nothing but whitespace and comments.",
        cause: "Every runbook file defines one `runbook NAME { ... }` or \
`procedure NAME { ... }`; this one defines nothing.",
        example: Some(Example::check(
            r#"
// The procedure is still to be written.
"#,
        )),
        fix: "Write the header (`runbook NAME {` with a `title`), start from a shipped runbook \
(`runbook show upgrade-with-downtime > my.runbook`), or delete the file.",
    },
    Entry {
        code: "runbook::syntax::invalid_duration",
        severity: Severity::Error,
        summary: "Digits are followed by something that is not a duration unit.",
        cause: "A duration is a whole number followed directly by `ms`, `s`, `m`, `h` or `d`. \
Other letters after the digits (`10x`, `5min`, `2hours`) are not a duration.",
        example: Some(Example::check(
            r#"
runbook demo {
    title "Demo"
    wait until healthy() timeout 10x
}
"#,
        )),
        fix: "Write the number and one unit, without a space: `30s`, `10m`, `2h`.",
    },
    Entry {
        code: "runbook::syntax::invalid_number",
        severity: Severity::Error,
        summary: "A number or a duration is too large to represent.",
        cause: "Numbers, and durations in milliseconds, must fit in 64 bits.",
        example: Some(Example::check(
            r#"
runbook demo {
    title "Demo"
    wait until healthy() timeout 99999999999999999999s
}
"#,
        )),
        fix: "Use a realistic value; for a wait that should never give up, prefer a long but \
finite timeout (`timeout 4h`) so that a stuck run still ends with a diagnostic.",
    },
    Entry {
        code: "runbook::syntax::invalid_escape",
        severity: Severity::Error,
        summary: "A string contains an unknown `\\` escape.",
        cause: "Inside a string, `\\` starts an escape; only `\\\"`, `\\\\`, `\\n` and `\\t` \
exist. A Windows path or a regular expression written as is contains others.",
        example: Some(Example::check(
            r#"
runbook demo {
    title "Demo"
    note "The installers are in C:\upgrade"
}
"#,
        )),
        fix: "Double the backslash (`\"C:\\\\upgrade\"`) or use one of the four escapes.",
    },
    Entry {
        code: "runbook::syntax::invalid_interpolation",
        severity: Severity::Error,
        summary: "A `{` or `}` in a message is not a well-formed `{EXPR}`.",
        cause: "In the text of `note`, `warning`, `check ... else`, `stop` and `fail`, `{EXPR}` \
shows the value of an expression when the statement runs, and `{{` and `}}` write one brace. A \
`{` that is never closed, a `}` that closes nothing, an empty `{}`, an escape between the \
braces, or a `select` (a message cannot ask the operator) is reported here; an expression \
that does not parse is `runbook::syntax::unexpected`, pointing into the string.",
        example: Some(Example::check(
            r#"
runbook demo {
    title "Demo"
    let active = active()
    note "Upgrading {active.name while the others wait"
}
"#,
        )),
        fix: "Close the interpolation (`{active.name}`), or double the brace (`{{`, `}}`) for a \
literal one. To show what the operator picked, bind it first (`let spare = select ...`) and \
write `{spare}`.",
    },
    Entry {
        code: "runbook::syntax::duplicate_declaration",
        severity: Severity::Error,
        summary: "A header declaration (`title`, `summary`) is given twice.",
        cause: "A runbook has one title and one summary; the second declaration is reported \
with a label on the first.",
        example: Some(Example::check(
            r#"
runbook demo {
    title "Upgrade"
    title "Upgrade with downtime"
}
"#,
        )),
        fix: "Keep one of them. Put longer explanations in `//!` or `///` doc comments, or in \
`note` statements the operator sees.",
    },
    Entry {
        code: "runbook::syntax::misplaced_declaration",
        severity: Severity::Error,
        summary: "A header declaration comes after the first statement.",
        cause: "`title`, `summary`, `param` and `import` describe the runbook as a whole and \
must come before its first statement (`let`, `step`, `check`...), so that a reader sees \
them first.",
        example: Some(Example::check(
            r#"
runbook demo {
    title "Demo"
    let active = active()
    param version: version = 7.4.0
}
"#,
        )),
        fix: "Move `title`, `summary`, `param` and `import` to the top of the body.",
    },
];
