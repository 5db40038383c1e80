//! `runbook::resolve::*`: the runbook is well formed, but a name, an argument
//! or a type does not fit ([`crate::syntax::ResolveError`]).

use super::{Entry, Example, Phase, Severity};

/// The resolution errors.
pub static PHASE: Phase = Phase {
    name: "resolve",
    title: "Resolution errors",
    intro: "Reported after parsing, by every command that loads a runbook, when a name refers \
to nothing, an operation or a function is called with the wrong arguments, a value has the \
wrong type or the structure breaks a rule of the language. A runbook with resolution errors \
is never run.",
    entries: ENTRIES,
};

static ENTRIES: &[Entry] = &[
    Entry {
        code: "runbook::resolve::undefined_variable",
        severity: Severity::Error,
        summary: "A name is used that nothing binds here.",
        cause: "Variables are bound by `let`, `param`, `for`, a quantifier (`all NAME in ...`) \
or `record`, and are visible in the block that binds them (and the blocks inside it). The \
name is misspelled, bound in another block, or bound later in the file. Server names \
(`mgt-1`) are not variables: servers are read from the cluster by role.",
        example: Some(Example::check(
            r#"
runbook demo {
    title "Demo"
    step one "Stop the Standby" {
        stop-server(server: standby)
    }
}
"#,
        )),
        fix: "Bind the name first (`let standby = select standby \"Which one?\" from standbys()`, \
`for standby in standbys() { ... }`) or correct the spelling; the help line suggests the \
closest name in scope.",
    },
    Entry {
        code: "runbook::resolve::undefined_step",
        severity: Severity::Error,
        summary: "A step id is referred to that no step of the file has.",
        cause: "`within D after STEP`, `during STEP` and `failed(STEP)` name a step by its id \
(the word after `step` and its number). No step of this file has that id.",
        example: Some(Example::check(
            r#"
runbook demo {
    title "Demo"
    step force-active "Force the activation" {
        note "forced"
    }
    step demote "Demote the other Active" within 5m after force-activ {
        note "demoted"
    }
}
"#,
        )),
        fix: "Use the id of an existing step (the help line suggests the closest), or add the \
step.",
    },
    Entry {
        code: "runbook::resolve::undefined_procedure",
        severity: Severity::Error,
        summary: "`call` names neither this file nor an imported file.",
        cause: "`call NAME(...)` runs the runbook or procedure called NAME, which must be \
imported with `import \"PATH\"` at the top of the file (or be the file itself, which is \
refused as recursion).",
        example: Some(Example::check(
            r#"
runbook demo {
    title "Demo"
    step one "Exclude the Standbys" {
        for standby in standbys() {
            call exclude-server(server: standby)
        }
    }
}
"#,
        )),
        fix: "Import the file that defines it (`import \"lib/exclude-server.runbook\"`; paths \
are relative to the importing file) or correct the name.",
    },
    Entry {
        code: "runbook::resolve::undefined_what_if",
        severity: Severity::Error,
        summary: "A What-if id is asked for that the runbook does not define.",
        cause: "A tool built on the library looked up a What-if handler by id \
(`Workspace::what_if`) and the runbook has none with that id. The help line lists the ids \
that exist. (`runbook run --what-if NAME` reports the same mistake as \
`runbook::run::unknown_what_if`.)",
        example: None,
        fix: "Use one of the listed ids; `runbook graph RUNBOOK` and `runbook plan RUNBOOK` show \
a runbook's What-if handlers.",
    },
    Entry {
        code: "runbook::resolve::duplicate_definition",
        severity: Severity::Error,
        summary: "Two definitions share one id.",
        cause: "Ids must be unique in their kind: step ids, What-if ids and prompt ids \
(`confirm`, `choose`, `select`, `record`) in a file, options (and the `default` option) \
in a `choose`, parameters, the named arguments of one call, and the files and procedure \
names imported into a file. Journals, answers files and `failed(...)` refer to these ids, \
so one id must mean one thing.",
        example: Some(Example::check(
            r#"
runbook demo {
    title "Demo"
    step upgrade "Upgrade the Standbys" {
        note "one"
    }
    step upgrade "Upgrade the Active" {
        note "two"
    }
}
"#,
        )),
        fix: "Rename one of them (the second is labelled, the first is shown too).",
    },
    Entry {
        code: "runbook::resolve::unknown_operation",
        severity: Severity::Error,
        summary: "An operation name is not in the operation table.",
        cause: "A statement `NAME(arg: value, ...)` performs an operation on the cluster, and \
NAME must be one of the operations of `docs/language.md` (`exclude`, `init-standby`, \
`activate`, `force-activate`, `set-standby`, `stop-server`, `start-server`, `upgrade`, \
`backup`, `restore-backup`...). To run another runbook, use `call`.",
        example: Some(Example::check(
            r#"
runbook demo {
    title "Demo"
    step one "Exclude the Standbys" {
        for standby in standbys() {
            exclud(server: standby)
        }
    }
}
"#,
        )),
        fix: "Correct the name (the help line suggests the closest), or `call` a procedure \
that performs it.",
    },
    Entry {
        code: "runbook::resolve::unknown_function",
        severity: Severity::Error,
        summary: "A built-in function name does not exist.",
        cause: "Expressions may call the built-in functions only: `active()`, `standbys()`, \
`servers()`, `actives()`, `count(LIST)`, `healthy()`, `replication_ok()`. Operations are \
statements, not functions.",
        example: Some(Example::check(
            r#"
runbook demo {
    title "Demo"
    check helthy() else "Replication is not healthy"
}
"#,
        )),
        fix: "Correct the name; the help line lists the functions.",
    },
    Entry {
        code: "runbook::resolve::unknown_field",
        severity: Severity::Error,
        summary: "A field is read that servers do not have.",
        cause: "A server has the fields `running`, `excluded`, `is_active`, `is_standby`, \
`version`, `state`, `name` and `changes`; nothing else can be read with `.`.",
        example: Some(Example::check(
            r#"
runbook demo {
    title "Demo"
    check active().mode == "active" else "No Active"
}
"#,
        )),
        fix: "Use one of the listed fields, e.g. `server.is_active` for the mode or \
`server.state == ACT_REP` for the replication state.",
    },
    Entry {
        code: "runbook::resolve::unknown_argument",
        severity: Severity::Error,
        summary: "A named argument is given that the operation or procedure does not take.",
        cause: "Arguments are named (`server: ...`); the callee (an operation, or the \
`param`s of a called procedure) has no parameter with this name.",
        example: Some(Example::check(
            r#"
runbook demo {
    title "Demo"
    step one "Demote" {
        set-standby(server: active(), forced: true)
    }
}
"#,
        )),
        fix: "Use one of the arguments the help line lists (here `force`).",
    },
    Entry {
        code: "runbook::resolve::missing_argument",
        severity: Severity::Error,
        summary: "A required argument is not given.",
        cause: "The operation or procedure needs this argument and it has no default (for a \
procedure: a `param` without `= default`).",
        example: Some(Example::check(
            r#"
runbook demo {
    title "Demo"
    step one "Upgrade" {
        upgrade(server: active())
    }
}
"#,
        )),
        fix: "Add the argument, as the help line writes it (here `version: version`).",
    },
    Entry {
        code: "runbook::resolve::wrong_argument_count",
        severity: Severity::Error,
        summary: "A built-in function is called with the wrong number of arguments.",
        cause: "Built-in functions take positional arguments: `count(LIST)` takes one, \
`active()`, `standbys()` and the others take none.",
        example: Some(Example::check(
            r#"
runbook demo {
    title "Demo"
    check count() == 1 else "No servers"
}
"#,
        )),
        fix: "Call it as its signature (in the help line) says.",
    },
    Entry {
        code: "runbook::resolve::type_mismatch",
        severity: Severity::Error,
        summary: "A value has the wrong type for where it is used.",
        cause: "Every expression has a type (`bool`, `number`, `string`, `duration`, \
`version`, `server`, `[server]`, replication state). A condition must be a `bool`, a \
timeout a `duration`, a `server:` argument one `server` (not a list), `for` goes over a \
list, and `==` compares values of one type. The label says what the value is; the help \
line why another type is needed.",
        example: Some(Example::check(
            r#"
runbook demo {
    title "Demo"
    wait until healthy() timeout 30
}
"#,
        )),
        fix: "Write a value of the expected type (`timeout 30m`, `version == 7.4.0` rather \
than `\"7.4.0\"`), or loop over a list with `for` to act on each server.",
    },
    Entry {
        code: "runbook::resolve::import_not_found",
        severity: Severity::Error,
        summary: "An imported file cannot be read.",
        cause: "`import \"PATH\"` is resolved relative to the importing file; the file does \
not exist there or cannot be read. (Inside the binary, the shipped runbooks import their \
own `lib/` files.)",
        example: Some(Example::check(
            r#"
runbook demo {
    title "Demo"
    import "lib/exclude-servers.runbook"
}
"#,
        )),
        fix: "Correct the path, relative to the importing file, or copy the procedure next to \
your runbook (`runbook show` prints the shipped ones).",
    },
    Entry {
        code: "runbook::resolve::import_outside",
        severity: Severity::Error,
        summary: "An import names a file outside the runbook's folder tree.",
        cause: "Imports are confined to the folder of the runbook being checked or run (and \
below it, or under a folder given to `check`), plus the shipped procedures (`lib/...`). A \
runbook from elsewhere could otherwise make `runbook` read any file the user can read, and \
show its first line in a report. The file is not read.",
        example: Some(Example::check(
            r#"
runbook demo {
    title "Demo"
    import "/etc/passwd"
}
"#,
        )),
        fix: "Move the imported file under the runbook's folder, import a shipped procedure, \
or pass `--allow-outside-imports` when you trust where the imports lead.",
    },
    Entry {
        code: "runbook::resolve::import_cycle",
        severity: Severity::Error,
        summary: "Files import each other in a circle.",
        cause: "A file imports, directly or through other files, the file that imports it. \
The message lists the files of the circle.",
        example: Some(
            Example::check(
                r#"
procedure example {
    import "other.runbook"
}
"#,
            )
            .with_file(
                "other.runbook",
                r#"
procedure other {
    import "example.runbook"
}
"#,
            ),
        ),
        fix: "Move what both files need into a third file that both import.",
    },
    Entry {
        code: "runbook::resolve::misplaced_step",
        severity: Severity::Error,
        summary: "A step stands where steps are not allowed.",
        cause: "Steps are the units a run journals and resumes, so they sit at the top level of \
a runbook's body (or in `if`, `for` and `choose` branches there). A step inside another \
step, in a What-if handler or in a `procedure` is refused, and so is a `call` of a runbook \
that has steps of its own from inside a step.",
        example: Some(Example::check(
            r#"
runbook demo {
    title "Demo"
    step outer "Upgrade" {
        step inner "Upgrade the Active" {
            note "nested"
        }
    }
}
"#,
        )),
        fix: "Make the inner step a plain block of statements, or move it to the top level; \
call a runbook that has steps outside any step.",
    },
    Entry {
        code: "runbook::resolve::misplaced_retry",
        severity: Severity::Error,
        summary: "`retry` is used outside a What-if handler.",
        cause: "`retry` runs the interrupted step again after a What-if handled its failure; \
outside a handler there is no interrupted step.",
        example: Some(Example::check(
            r#"
runbook demo {
    title "Demo"
    step upgrade "Upgrade" {
        retry
    }
}
"#,
        )),
        fix: "Move `retry` into a `what-if ... when failed(STEP) { ... }` handler, after what \
repairs the cause.",
    },
    Entry {
        code: "runbook::resolve::misplaced_pause",
        severity: Severity::Error,
        summary: "`pause` is used outside a What-if handler.",
        cause: "`pause` ends the run resumably and leaves the step a What-if interrupted to be \
run again by `runbook resume`; outside a handler there is no interrupted step.",
        example: Some(Example::check(
            r#"
runbook demo {
    title "Demo"
    step upgrade "Upgrade" {
        pause "Fix the cause, then resume the run."
    }
}
"#,
        )),
        fix: "Wait for the operator with a `confirm` prompt (a run stopped at a prompt resumes \
there), end the run for good with `stop`, or move the `pause` into a What-if body.",
    },
    Entry {
        code: "runbook::resolve::select_in_goal",
        severity: Severity::Error,
        summary: "A `goal` condition asks the operator (`select`).",
        cause: "A goal is judged on the cluster when the run ends, with the parameters bound: \
there is no one to ask then.",
        example: Some(Example::check(
            r#"
runbook demo {
    title "Demo"
    goal (select keep "Which server?" from servers()).is_active else "it must be Active"
    note "Nothing to do"
}
"#,
        )),
        fix: "Ask with `select` in the body and `check` the answer there.",
    },
    Entry {
        code: "runbook::resolve::unknown_starting_state",
        severity: Severity::Error,
        summary: "`from` names a state that is not a starting state.",
        cause: "`from STATE, ...` lists the states of the cluster a runbook is written for; the \
verifier builds each one on its model. The states are `healthy`, `replication-broken`, \
`standby-stopped`, `split-brain`, `wizard-interrupted` and `after-restore`.",
        example: Some(Example::check(
            r#"
runbook demo {
    title "Demo"
    from split-brian
    note "Nothing to do"
}
"#,
        )),
        fix: "Write one of the starting states (`runbook verify --help` lists them).",
    },
    Entry {
        code: "runbook::resolve::run_declaration_in_procedure",
        severity: Severity::Error,
        summary: "`goal` or `from` in a procedure.",
        cause: "A goal and starting states describe a whole run: a procedure is a part of \
one, called by a runbook.",
        example: Some(Example::check(
            r#"
procedure demo {
    goal healthy
    note "Nothing to do"
}
"#,
        )),
        fix: "Declare them in the runbook that calls the procedure.",
    },
    Entry {
        code: "runbook::resolve::select_in_requires",
        severity: Severity::Error,
        summary: "A `requires` condition asks the operator (`select`).",
        cause: "`requires` is judged on the cluster before the run acts or writes a journal, so \
it cannot ask anything: a `select` in its condition or message has no answer yet.",
        example: Some(Example::check(
            r#"
runbook demo {
    title "Demo"
    requires (select target "Which server?" from servers()).running else "it must run"
    note "Nothing to do"
}
"#,
        )),
        fix: "Ask with `select` in the body and `check` the answer there; keep `requires` to \
conditions on the cluster and the parameters.",
    },
    Entry {
        code: "runbook::resolve::missing_title",
        severity: Severity::Error,
        summary: "A runbook has no `title`.",
        cause: "The title is what the operator sees first (`runbook list`, the start of a run); \
every `runbook` needs one. (A `procedure` does not.)",
        example: Some(Example::check(
            r#"
runbook demo {
    note "Upgrade the servers"
}
"#,
        )),
        fix: "Add `title \"...\"` at the top of the body.",
    },
    Entry {
        code: "runbook::resolve::recursive_call",
        severity: Severity::Error,
        summary: "A runbook or procedure calls itself.",
        cause: "Runbooks do not recurse: a call of the file itself could never end.",
        example: Some(Example::check(
            r#"
runbook demo {
    title "Demo"
    call demo()
}
"#,
        )),
        fix: "Repeat work with `for` over the servers, or `retry` a step from a What-if.",
    },
];
