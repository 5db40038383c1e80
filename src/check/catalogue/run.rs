//! `runbook::run::*`: how a run, a resume or a plan can end in error, and the
//! warnings it reports on the way ([`crate::interp::RuntimeError`] and the
//! interpreter's warning events).

use super::{Entry, Example, Phase, Severity};

/// The run phase.
pub static PHASE: Phase = Phase {
    name: "run",
    title: "Run errors and warnings",
    intro: "Reported by `runbook run`, `runbook resume` and `runbook plan` while they execute \
(or lay out) a runbook against a target. Errors end the run (exit 1; exit 2 when nothing \
was changed because the target or an input could not be used); warnings are shown and \
journaled, and the run goes on. In `--format json` each warning is also a `warning` event \
with its code. A failed run prints how to continue it (`runbook resume JOURNAL`).",
    entries: ENTRIES,
};

static ENTRIES: &[Entry] = &[
    Entry {
        code: "runbook::run::step_failed",
        severity: Severity::Error,
        summary: "A step failed: an operation was refused or failed, or a `check` did not hold.",
        cause: "Inside a step, the target refused an operation (its precondition is not met), \
an operation ran and failed (installer error, server unreachable), a `check` was false, or \
an expression had no value on the live cluster (`active()` with no Active). No What-if \
handled the failure. The label points at the statement; the help line names the code of \
the target's error when the target caused the failure (`runbook::connector::refused_action`, \
`runbook::connector::timeout`...: `runbook explain` it), the What-ifs that watch the step, \
how to continue, and the cluster at that moment. With `--format json` that code is the \
`cause_code` of the step's `step_finished` event and of `run_finished`.",
        example: Some(Example::run(
            r#"
runbook demo {
    title "A refused operation"
    step exclude-active "Exclude the Active" {
        exclude(server: active())
    }
}
"#,
            "runbook run example.runbook",
        )),
        fix: "Read the reason and the cluster table; repair the cause on the servers (or in \
the runbook: check the precondition first, handle the failure with a \
`what-if ... when failed(STEP)`), then continue with the `runbook resume` command shown.",
    },
    Entry {
        code: "runbook::run::wait_timeout",
        severity: Severity::Error,
        summary: "A `wait until` condition did not hold within its `timeout`.",
        cause: "The condition was polled (every 10s unless `every` says otherwise) until the \
timeout passed and never held: a Standby that never reaches `STB_REP`, a server that does \
not come back after a restart. The step fails.",
        example: Some(Example::run(
            r#"
runbook demo {
    title "Wait for replication"
    step wait-replication "Wait until the cluster is healthy" {
        wait until count(actives()) == 2 timeout 1m
    }
}
"#,
            "runbook run example.runbook",
        )),
        fix: "Look at the cluster table in the help line: find out why the state was not \
reached (the product's logs, `runbook plan`), fix it, then `runbook resume` — the wait \
runs again. If the operation is merely slow, give the `wait` a longer `timeout`.",
    },
    Entry {
        code: "runbook::run::prompt_unavailable",
        severity: Severity::Error,
        summary: "A prompt needs an answer, but there is no terminal and no answer for it.",
        cause: "The run reached a `confirm`, `choose`, `select` or `record` while standard \
input is not a terminal (CI, a pipe, `nohup`), the `--answers` file has no answer for this \
prompt id, and `--yes` was not given (or the prompt is one `--yes` never answers: a \
`choose` without a `default` option, a `record`, a manual operation).",
        example: Some(Example::run(
            r#"
runbook demo {
    title "A prompt"
    confirm start-upgrade "Start the upgrade now?"
}
"#,
            "runbook run example.runbook < /dev/null",
        )),
        fix: "Answer it in an answers file (`--answers FILE` with `start-upgrade = true`), use \
`--yes` to confirm every prompt and take each choice's default, or run in a terminal. Then \
`runbook resume` the journal.",
    },
    Entry {
        code: "runbook::run::answers_file",
        severity: Severity::Error,
        summary: "The answers file cannot be read, or holds a wrong answer.",
        cause: "The file given with `--answers` does not exist, is not valid TOML, or answers a \
prompt with a value of the wrong kind: a `confirm` takes `true`/`false`, a `choose` the \
name of one of its options, a `select` the name of a server of its list, a `record` a \
string, a manual operation `\"done\"`, `\"failed\"` or `\"not-done\"`.",
        example: Some(
            Example::run(
                r#"
runbook demo {
    title "A prompt"
    confirm start-upgrade "Start the upgrade now?"
}
"#,
                "runbook run example.runbook --answers answers.toml",
            )
            .with_file(
                "answers.toml",
                r#"
start-upgrade = "yes please"
"#,
            ),
        ),
        fix: "Correct the answer the message names (the label points at it in the file). Prompt \
ids are the words after `confirm`, `choose`, `select` and `record`; `runbook plan` lists \
them.",
    },
    Entry {
        code: "runbook::run::terminal",
        severity: Severity::Error,
        summary: "The operator's terminal failed while a prompt was waiting for an answer.",
        cause: "Reading the answer from the terminal failed: the SSH session dropped, the \
terminal was closed, or input ended (Ctrl-D) in the middle of a prompt. Everything before \
the prompt is journaled.",
        example: None,
        fix: "Continue with `runbook resume JOURNAL` from a working terminal, or answer with \
`--answers FILE`. For long runs over SSH, use `tmux` or `screen`.",
    },
    Entry {
        code: "runbook::run::evaluation",
        severity: Severity::Error,
        summary: "A statement could not be carried out outside any step.",
        cause: "The interpreter met something the resolver should have refused, such as \
`retry` outside a What-if handler (`runbook::resolve::misplaced_retry`). Expressions that \
fail on the live cluster during a step are reported as `runbook::run::step_failed`.",
        example: None,
        fix: "Run `runbook check` on the runbook and fix what it reports; if it reports nothing, \
this is a bug of `runbook`: report the runbook that produced it.",
    },
    Entry {
        code: "runbook::run::failed",
        severity: Severity::Error,
        summary: "The runbook ended the run with `fail \"...\"`.",
        cause: "The run reached a `fail` statement: the runbook's author decided that this \
situation cannot be handled by the procedure. The message is the runbook's; the run ends \
`failed`, for good: `runbook resume` refuses it.",
        example: Some(Example::run(
            r#"
runbook demo {
    title "Refuse to upgrade"
    if count(standbys()) > 1 {
        fail "This procedure handles one Standby Server only"
    }
}
"#,
            "runbook run example.runbook",
        )),
        fix: "Do what the message says: repair the situation and start a new run, or use the \
procedure that fits it.",
    },
    Entry {
        code: "runbook::run::window_too_short",
        severity: Severity::Error,
        summary: "`--window-ends`: the runbook's worst case does not fit in the time left.",
        cause: "Before anything acts, a run with a maintenance window asks the verifier for \
the runbook's worst case on a cluster of the target's size: every background operation at \
its full duration, every `wait` to its longest, every fault configuration `verify` explores. \
When that is longer than the time left until the window ends, the run is refused (exit 2) \
and no journal is written. The message names the worst case and the time left.",
        example: Some(Example::command(
            "runbook run upgrade-with-downtime --yes --window-ends 30m",
        )),
        fix: "Start it in a window long enough (`--window-ends` later), or shorten the \
runbook's worst case (`runbook verify RUNBOOK` shows its longest path).",
    },
    Entry {
        code: "runbook::run::maintenance_window_closing",
        severity: Severity::Error,
        summary: "`--window-ends`: the run stopped before a step whose worst case no longer fits.",
        cause: "Before each step, a run with a maintenance window compares the verifier's \
worst case from that step to the end of the run with the time left on the target's clock \
(both computed once when the run or the resume starts). Something took longer than the \
model (an operator at a prompt, a run interrupted and resumed later), and what is left \
could overrun the window: the run stops there, resumably, as Ctrl-C between steps does. \
The window is journaled: a resume keeps it unless `--window-ends` gives another.",
        example: Some(Example::command(
            "runbook sim serve --addr 127.0.0.1:8443 --speed 600 &
runbook run upgrade-with-downtime --target http://127.0.0.1:8443 --window-ends 3h --journal run.jsonl
# ... the operator answers a prompt two hours later ...",
        ).by_hand()),
        fix: "Continue in the next window: `runbook resume JOURNAL --window-ends TIME`. The \
cluster is left as the last completed step left it: check it with `runbook plan` first.",
    },
    Entry {
        code: "runbook::run::window_exceeded",
        severity: Severity::Warning,
        summary: "A step started later than its `within D after STEP` window allows.",
        cause: "The page asks for this step \"as soon as possible\" after another one (typically \
demoting the Initial Active after forcing the Final Active: two Actives must not last). \
More time than D passed, on the target's clock, between the end of the anchor step and the \
start of this one — an operator who paused at a prompt, a slow operation in between, a run \
interrupted and resumed later (the anchor's end then comes from the journal; the message \
says which clock measured it). The step still runs. `runbook verify` reports the same \
problem before the run as `runbook::verify::window_exceeded`.",
        example: Some(Example::run(
            r#"
runbook demo {
    title "A late step"
    step stop-standbys "Stop the Standby Servers" {
        for standby in standbys() {
            stop-server(server: standby)
        }
    }
    step upgrade-standbys "Upgrade them" {
        for standby in standbys() {
            upgrade(server: standby, version: 7.4.0)
        }
    }
    step soon "As soon as possible after the stop" within 1m after stop-standbys {
        note "too late"
    }
}
"#,
            "runbook run example.runbook",
        )),
        fix: "Check the cluster now (`runbook plan` shows it): if two servers are Active, \
finish the demotion at once. In the runbook, move the step right after its anchor and keep \
long operations and prompts out of the window.",
    },
    Entry {
        code: "runbook::run::window_closing",
        severity: Severity::Warning,
        summary: "A `within D after STEP` window is about to close and its step has not started.",
        cause: "The anchor step ended, and at most a quarter of the window is left (five minutes \
at most: 1m15s of a 5m window, 5m of a 2h one) while the run is still before the windowed \
step — in a long operation, a `wait`, or at a prompt. The run judges this whenever it looks at \
the time (a step ending, a `wait` poll, every half second of a long operation, before a \
prompt and, on a real cluster or `sim serve`, every quarter second while a question waits at \
the terminal; a resumed run as it skips the anchor, measuring from its journaled end), and \
says it once per window each time its anchor ends (and again after a resume). With \
`--notify` (or `notify = [...]` in the inventory) the warning is posted to the webhooks, so \
that the team knows while there is still time.",
        example: Some(Example::run(
            r#"
runbook demo {
    title "A window running out"
    let active = active()
    step anchor "The anchor" {
        note "the window starts when this step ends"
    }
    step wait-changes "Wait for two administrator changes (one every 5m)" {
        wait until active.changes >= 2 timeout 1h every 1m
    }
    step hurry "As soon as possible after the anchor" within 12m after anchor {
        note "in a hurry"
    }
}
"#,
            "runbook run example.runbook --sim-fault changes-on-active --format json",
        )),
        fix: "Answer the prompt or finish what is under way and start the step now. If the \
window cannot be kept, decide before it closes what to do (the page's way back); the run \
warns again with `runbook::run::window_exceeded` when the step starts late.",
    },
    Entry {
        code: "runbook::run::parameter",
        severity: Severity::Error,
        summary: "A `--set NAME=VALUE` names no parameter of the runbook, or its value does not \
fit.",
        cause: "Each `--set` gives a value to one `param` of the runbook; the name is unknown, \
the argument is not `NAME=VALUE`, or the value does not parse as the parameter's type \
(`version=7.4` for a version, a duration, a number...). `--set version=...` must also be a \
version like `7.4.0` for the simulator.",
        example: Some(Example::run(
            r#"
runbook demo {
    title "Demo"
    param version: version = 7.4.0
    note "Upgrade to the target version"
}
"#,
            "runbook run example.runbook --set versoin=7.4.1",
        )),
        fix: "Use the parameters the runbook declares (`runbook show NAME` or the file's \
`param` lines) with values of their type, e.g. `--set version=7.4.0`.",
    },
    Entry {
        code: "runbook::run::connection_option",
        severity: Severity::Error,
        summary: "A connection option was given for the in-process simulator.",
        cause: "`--request-timeout`, `--connect-timeout`, `--ca-cert` and \
`--insecure-skip-tls-verify` tune how `runbook` reaches an SMC API over the network. The \
in-process simulator (`--target sim`, the default) is not reached over a network, so the \
option would silently do nothing: it is refused instead.",
        example: Some(Example::command(
            "runbook plan upgrade-with-downtime --request-timeout 5s",
        )),
        fix: "Remove the option, or give a network target: `--target http://HOST:PORT` (for \
example `runbook sim serve`) or `--target INVENTORY.toml`.",
    },
    Entry {
        code: "runbook::run::unknown_what_if",
        severity: Severity::Error,
        summary: "`--what-if NAME` names no What-if handler of the runbook.",
        cause: "`runbook run RUNBOOK --what-if NAME` runs one What-if handler directly; the \
runbook has no handler with that id. The help line lists the ones it has, or says that it \
has none. It is a usage error (exit 2): it is reported before the target is opened, and \
nothing runs or is journaled.",
        example: Some(Example::command(
            "runbook run upgrade-with-downtime --what-if installer-fail",
        )),
        fix: "Use one of the listed ids (`runbook graph RUNBOOK` also shows them).",
    },
    Entry {
        code: "runbook::run::nothing_to_force",
        severity: Severity::Error,
        summary: "`run --force` with no `--what-if` on a runbook that declares no starting state.",
        cause: "`--force` overrides one of two refusals: a `--what-if` handler none of whose \
triggers holds (`runbook::run::what_if_not_holding`), and a runbook that declares `from STATE` \
run on a target in none of those states (`runbook::run::not_a_starting_state`). With neither, \
it would silently mean nothing. It is a usage error (exit 2): nothing runs.",
        example: Some(Example::command("runbook run upgrade-with-downtime --force --yes")),
        fix: "Run it without `--force`.",
    },
    Entry {
        code: "runbook::run::not_a_starting_state",
        severity: Severity::Error,
        summary: "The target is in none of the states the runbook declares with `from`.",
        cause: "A runbook that declares the states it is written for (`from split-brain`) is \
proven by the verifier from those states only: on another cluster (a healthy one, say) its \
first operations can do harm. Before anything acts, `runbook run` reads the target and judges \
each declared state on what every target shows (roles, replication states, exclusion, \
whether a server answers, the split brain the Active reports); an interrupted wizard, whose \
phase is not published, fits any cluster with at most one running Active. The help line says \
how the target looks. It is a usage error (exit 2): nothing runs and no journal is written. \
A runbook that declares no state is written for a healthy cluster and checks what it needs \
itself.",
        example: Some(Example::run(
            r#"
runbook recover-split {
    title "Recover from a split brain"
    from split-brain
    note "Nothing to do in this example"
}
"#,
            "runbook run example.runbook --yes",
        )),
        fix: "Run it on the cluster it was written for, or give `--force` when you know the \
target is in such a state although it does not look it.",
    },
    Entry {
        code: "runbook::run::starting_state_forced",
        severity: Severity::Warning,
        summary: "`run --force` on a target in none of the states the runbook declares.",
        cause: "With `--force`, a run that `runbook::run::not_a_starting_state` would refuse goes \
on. This warning, before the run starts, says how the target looks.",
        example: Some(Example::run(
            r#"
runbook recover-split {
    title "Recover from a split brain"
    from split-brain
    note "Nothing to do in this example"
}
"#,
            "runbook run example.runbook --yes --force",
        )),
        fix: "Nothing to fix when the target is in the state the runbook is written for; \
otherwise stop the run (Ctrl-C) before its first operation.",
    },
    Entry {
        code: "runbook::run::what_if_not_holding",
        severity: Severity::Error,
        summary: "`--what-if NAME` on a target where none of the handler's triggers holds.",
        cause: "`runbook run RUNBOOK --what-if NAME` runs one handler alone, on the target as \
it is; a handler written for a broken cluster can do harm on a healthy one (demote its only \
Active Server). Before anything acts, each trigger of the handler is judged on the target: \
`two-actives` and `standby-activated` hold when two servers are Active or the target reports \
a split brain (with no run behind it, a Standby that became Active shows that way), \
`replication-broken` when a running server reports `BROKEN_ACT_STB` or `UNKNOWN`; \
`failed(STEP)` and `upgrade-cancelled(...)` never hold, since no step or upgrade ran. The \
help line says how each trigger was judged. It is a usage error (exit 2): nothing runs and \
no journal is written.",
        example: Some(Example::command(
            "runbook run upgrade-with-downtime --what-if standby-activated --yes",
        )),
        fix: "Run the handler on the cluster it was written for, or give `--force` when you \
know its situation happened (for example an installer that failed outside the runbook); \
`--force` first says what the handler will do.",
    },
    Entry {
        code: "runbook::run::what_if_forced",
        severity: Severity::Warning,
        summary: "`--what-if NAME --force` runs a handler none of whose triggers holds.",
        cause: "With `--force`, a handler that `runbook::run::what_if_not_holding` would refuse \
runs anyway. Before it starts, this warning names the triggers as judged and lists the \
operations and calls of the handler's body, as written with their lines (in every branch: \
which one runs is decided when it runs).",
        example: Some(Example::command(
            "runbook run upgrade-with-downtime --what-if installer-failed --force --yes",
        )),
        fix: "Nothing to fix when the handler's situation did happen; otherwise stop the run \
(Ctrl-C) before its first operation, or do not give `--force`.",
    },
    Entry {
        code: "runbook::run::journal",
        severity: Severity::Error,
        summary: "The journal could not be written or read.",
        cause: "Every run writes a journal (by default under `runs/`, or the `--journal FILE`), \
record by record, before it acts: it is what makes the run resumable. The file or its \
folder cannot be created or written (permissions, a full disk, a file where a folder should \
be), or `runbook resume` was given a file that is not a journal.",
        example: Some(Example::run(
            r#"
runbook demo {
    title "Demo"
    note "Nothing to do"
}
"#,
            "touch runs\nrunbook run example.runbook --journal runs/demo.jsonl",
        )),
        fix: "Check the disk and the path, or choose another with `--journal FILE`. For \
`runbook resume`, give the journal the interrupted run printed.",
    },
    Entry {
        code: "runbook::run::resume_refused",
        severity: Severity::Error,
        summary: "`runbook resume` cannot safely continue this journal.",
        cause: "The run already ended for good (succeeded, `stop`, `fail`), or the runbook \
changed since the journal was written in a way that makes replay unsafe: a completed step \
disappeared or moved, the half-done step's text changed, or the runbook no longer takes the \
path the journal recorded. With `--reanswer ID`: the journal holds no answer to ID, the step \
that asked it (or a later one) has completed, or the operator did not confirm \
`reanswer.ID`.",
        example: Some(Example::run(
            r#"
runbook demo {
    title "Demo"
    confirm go "Go?"
}
"#,
            "runbook run example.runbook --yes --journal run.jsonl\nrunbook resume run.jsonl",
        )),
        fix: "For a finished run, start a new one with `runbook run`. For an edited runbook, \
restore it as it was when the run started (the journal holds its hashes), or start a new \
run.",
    },
    Entry {
        code: "runbook::run::guard_two_actives",
        severity: Severity::Warning,
        summary: "The run observed two Active servers outside any time window or What-if.",
        cause: "The runtime guard judges every state the run reads against the invariants the \
verifier proves. Two running Actives are expected only inside a `within D after STEP` \
window (its anchor step, the time until the windowed step ends) or while a What-if handles \
the fault; anywhere else the cluster is split: both servers accept changes that the other \
will lose. Said once per pair of servers.",
        example: None,
        fix: "Demote one of the Actives as soon as possible (the \"What if two servers are \
Active\" page), and give the runbook a What-if for the fault (`when two-actives`) so the next \
run handles it.",
    },
    Entry {
        code: "runbook::run::guard_active_upgraded_with_declared_standby",
        severity: Severity::Warning,
        summary: "The Active is about to be upgraded while a Standby still runs declared in replication.",
        cause: "The guard judges each operation before it is sent. Upgrading the Active while a \
Standby runs and is still declared in replication (neither stopped nor excluded) breaks \
invariant 3 of the HA model: the Standby may take over, or be left on a replica the new \
version does not accept.",
        example: None,
        fix: "Stop every Standby or exclude it from replication (and `check` it) before the \
upgrade of the Active, as step 1 of the pages does.",
    },
    Entry {
        code: "runbook::run::guard_changes_discarded_unreported",
        severity: Severity::Warning,
        summary: "An operation is about to discard administrator changes that no clause counted.",
        cause: "A forced Set Standby of an Active, or a restore, loses the changes made on that \
server since the run started. The runbook should say so with `discards changes on SERVER` on \
the step, option or What-if, so the operator sees the count and confirms. The guard found \
changes about to be lost with no such clause reached in the step under way (only targets \
that count changes can tell: the simulators).",
        example: None,
        fix: "Add `discards changes on SERVER` to the step, the `choose` option or the What-if \
that discards them.",
    },
    Entry {
        code: "runbook::run::guard_unhealthy_end",
        severity: Severity::Error,
        summary: "The runbook ended, but the upgrade it did left an unhealthy cluster.",
        cause: "A run that upgraded the server that was Active when it started cannot end \
`succeeded` unless every server runs the new version, one Active is in `ACT_REP`, every \
Standby is in `STB_REP` and none is excluded. The runbook reached its end without checking \
that; the run ends `failed`, naming what is not so.",
        example: None,
        fix: "Check the cluster by hand (`runbook probe`) and finish the procedure. Make the \
runbook end with `wait until healthy()` and a `check` of the versions, or `stop` with \
instructions where it cannot.",
    },
    Entry {
        code: "runbook::run::goal_not_met",
        severity: Severity::Error,
        summary: "The runbook ended, but the cluster does not meet its goal.",
        cause: "A run that reaches the end of its runbook is judged against the runbook's goal: \
`goal upgrade to V` (every server on V, one Active in `ACT_REP`, every Standby in `STB_REP`, \
none excluded), `goal healthy` (the same on one version; the default when the runbook \
declares no goal) or `goal EXPR else \"MESSAGE\"`. When the live cluster does not meet it, \
the run ends `failed`, naming what is not so, instead of `succeeded`.",
        example: None,
        fix: "Check the cluster by hand (`runbook probe`) and finish what is left. Make the \
runbook reach its goal on every path that succeeds, or `stop` with instructions where it \
cannot; `runbook verify` shows the paths that do not.",
    },
    Entry {
        code: "runbook::run::requirement_not_met",
        severity: Severity::Error,
        summary: "The cluster is not one the runbook is written for (`requires`).",
        cause: "A runbook's `requires EXPR else \"MESSAGE\"` declarations say what cluster it is \
written for (e.g. at least one Standby for an HA upgrade). They are judged on the cluster \
read when the run starts, with the parameters bound; the first that does not hold refuses the \
run before anything acts or a journal is written (exit 2). A run of one What-if alone \
(`--what-if`) is judged by the handler's triggers instead. `runbook verify --servers N` \
refuses the same way when a healthy cluster of N servers does not meet them: there is \
nothing to prove on it.",
        example: Some(Example::run(
            r#"
runbook demo {
    title "Demo"
    requires count(standbys()) >= 1 else "an HA upgrade needs a Standby"
    note "Nothing to do"
}
"#,
            "runbook run example.runbook --sim-servers 1",
        )),
        fix: "Run the runbook on a cluster it is written for, or write one for this cluster.",
    },
    Entry {
        code: "runbook::run::other_cluster",
        severity: Severity::Error,
        summary: "`runbook resume` reached another cluster than the one the run acted on.",
        cause: "A run journals the identity of the cluster it starts on: its servers' names and \
the keys of their Management Server elements, as `/ha` and the elements publish them. A \
resume reads the live cluster first and refuses, before anything acts, when its servers are \
not the journaled ones or a server's element key changed: the address now leads to another \
setup (a rebuilt lab, another site behind the same name, another `sim serve`).",
        example: None,
        fix: "Resume against the cluster the run started on (the journal's `reach.target`, or \
a `--target` inventory that reaches it). To act on the other cluster, start a new run there.",
    },
    Entry {
        code: "runbook::run::journal_in_use",
        severity: Severity::Error,
        summary: "Another `runbook` process is writing this journal.",
        cause: "A run holds an exclusive lock on its journal while it acts (released by the \
operating system when the process ends, however it ends). A second `runbook resume` of the \
same journal, while the first is still running, is refused before it reads the cluster or \
acts, so two processes never continue one run.",
        example: None,
        fix: "Wait for the other process to end (or stop it with Ctrl-C in its terminal), then \
resume again. If no process is running, check that the journal is not on a file system \
shared with another machine where one runs.",
    },
    Entry {
        code: "runbook::run::interrupted",
        severity: Severity::Error,
        summary: "The run was interrupted (Ctrl-C) after the current step was journaled.",
        cause: "The operator pressed Ctrl-C: the run stopped at the end of the current step, \
with the outcome `stopped`; at a prompt or during a `wait` it stops at once, and the \
interrupted step runs again on resume. (A second Ctrl-C exits at once; the journal is still \
valid.)",
        example: Some(
            Example::command("runbook run upgrade-with-downtime   # then press Ctrl-C").by_hand(),
        ),
        fix: "Continue with the `runbook resume JOURNAL` command in the help line when ready.",
    },
    Entry {
        code: "runbook::run::outcome_not_seen",
        severity: Severity::Error,
        summary: "The outcome of an operation was not seen, or the cluster could not be read: \
the run stopped, resumably.",
        cause: "An operation got no answer (a time limit, a dropped connection, a server \
restarting) and the cluster could not be read while the runner waited for the operation \
to end; or reading the cluster failed 6 times in a row. Nothing was judged failed and no \
What-if fired: the operation stays in flight in the journal.",
        example: Some(
            Example::command(
                "runbook run upgrade-with-downtime --target prod.toml   # the network drops during the installer",
            )
            .by_hand(),
        ),
        fix: "Check the servers and the network, then continue with the `runbook resume \
JOURNAL` command in the help line: the resumed run reads the cluster and waits for what is \
still running before it decides.",
    },
    Entry {
        code: "runbook::run::unreadable",
        severity: Severity::Error,
        summary: "The RUNBOOK argument names a file that cannot be read.",
        cause: "`run`, `plan`, `verify` and `graph` take a path to a `.runbook` file or the name \
of a shipped runbook; the path exists but cannot be read (a folder, no permission), or is a \
pipe, a socket or a device, which is never opened (reading it could block forever). A path \
that does not exist is `runbook::run::unknown_runbook`. The command exits 2.",
        example: Some(Example::command(
            "mkdir my-upgrade.runbook && runbook run my-upgrade.runbook",
        )),
        fix: "Check the path and its permissions.",
    },
    Entry {
        code: "runbook::run::runbook_warning",
        severity: Severity::Warning,
        summary: "A `warning \"...\"` statement of the runbook was reached.",
        cause: "The runbook's author shows this text to the operator as a warning (for example \
\"changes made on the Active after this point will be lost\"). It is the code of the \
`warning` event in `--format json` output and in the journal.",
        example: Some(Example::run(
            r#"
runbook demo {
    title "A warning"
    warning "Administrators must stop changing the configuration now."
}
"#,
            "runbook run example.runbook --format json",
        )),
        fix: "Nothing to fix: read the text and act on it.",
    },
    Entry {
        code: "runbook::run::discards_changes",
        severity: Severity::Warning,
        summary: "A step, option or What-if with `discards changes on SERVER` counted the \
administrator changes it is about to discard.",
        cause: "Before the step (or the chosen option, or the entered What-if) acts, the run \
counts the configuration changes made on that server since the run started and reports the \
number with this code. When it is not zero, the operator must confirm the prompt \
`STEP_ID.discard-changes` (`CHOOSE_ID.OPTION.discard-changes`, \
`WHAT_IF_ID.discard-changes`); declining stops the run before anything is lost. \
`runbook plan` shows these clauses ahead of time.",
        example: Some(Example::run(
            r#"
runbook demo {
    title "Discard changes"
    step demote "Force the Active to Standby"
        discards changes on active()
    {
        note "the Active would be demoted here"
    }
}
"#,
            "runbook run example.runbook --yes --sim-fault changes-on-active --format json",
        )),
        fix: "If the changes matter, decline, and have the administrators redo them on the \
server that stays Active (or export them) before resuming. Otherwise confirm: the count is \
journaled.",
    },
];
