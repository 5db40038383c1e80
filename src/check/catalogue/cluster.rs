//! `runbook::cluster::*` and `runbook::sim::*`: the cluster model refused or
//! failed an operation, the simulator's options do not fit, or
//! `runbook sim serve` cannot start ([`crate::cluster::SimError`],
//! [`crate::cluster::SimConfigError`], [`crate::connect::sim_server::SimServeError`]).

use super::{Entry, Example, Phase, Severity};

/// The cluster model and the simulator.
pub static PHASE: Phase = Phase {
    name: "cluster",
    title: "Simulator and cluster model",
    intro: "The HA cluster model is shared by the simulator and the verifier. Its option \
errors (`--sim-servers`, `--sim-fault`, `--set version`) stop `run`, `plan` and \
`sim serve` before anything starts (exit 2); `runbook sim serve` has its own codes for its \
address and state file. The model's operation errors (`refused`, `failed`, `unreachable`, \
`stopped`, `unknown_server`) are what the library's `Simulator` returns; through a \
connector they become `runbook::connector::*` errors, and in a run the reason of a failed \
step.",
    entries: ENTRIES,
};

static ENTRIES: &[Entry] = &[
    Entry {
        code: "runbook::cluster::bad_occasion",
        severity: Severity::Error,
        summary: "`--sim-fault FAULT@N` on a fault that takes no occasion, or N not a number from 1.",
        cause: "Only `crash:SERVER` and `unreachable:SERVER` take an occasion: `crash:mgt-2@3` \
crashes mgt-2 right before the third operation the run sends, `unreachable:mgt-2@3` makes it \
stop answering there (the verifier's replays use them). The other faults fire where the \
simulator's fault table says.",
        example: Some(Example::command(
            "runbook run upgrade-with-downtime --sim-fault upgrade-fails:mgt-2@2",
        )),
        fix: "Drop `@N`, or write it after a `crash:SERVER` or an `unreachable:SERVER`, with N \
from 1.",
    },
    Entry {
        code: "runbook::cluster::unknown_start",
        severity: Severity::Error,
        summary: "`--sim-start` names no starting state.",
        cause: "The simulator can start from the starting states of `from`: `healthy`, \
`replication-broken`, `standby-stopped`, `split-brain`, `wizard-interrupted` and \
`after-restore`, each optionally followed by `:N` for its N-th variant (from 1).",
        example: Some(Example::command(
            "runbook run upgrade-with-downtime --sim-start split-brian",
        )),
        fix: "Use one of the states the help line lists; `runbook verify` names the variants \
of the states a runbook declares.",
    },
    Entry {
        code: "runbook::cluster::no_such_start",
        severity: Severity::Error,
        summary: "`--sim-start STATE:N` names a variant the simulated cluster does not have.",
        cause: "A starting state has variants that depend on the cluster's size: a split brain \
between `mgt-1` and `mgt-2`, and between `mgt-2` and `mgt-3` when there are three servers; an \
activation wizard stopped at each of its seven phases. A state that needs two servers has none \
on a cluster of one.",
        example: Some(Example::command(
            "runbook run upgrade-with-downtime --sim-servers 2 --sim-start split-brain:2",
        )),
        fix: "Use a variant the help line lists, or more servers (`--sim-servers`).",
    },
    Entry {
        code: "runbook::cluster::unknown_fault",
        severity: Severity::Error,
        summary: "`--sim-fault` names no known fault.",
        cause: "The simulator plays the faults of the contract: `replication-down`, \
`active-upgrade-cancelled`, `standby-auto-activates`, `standby-activated-by-operator`, \
`upgrade-fails:SERVER`, `unreachable:SERVER`, `crash:SERVER` and `changes-on-active`. The name given is \
none of them.",
        example: Some(Example::command(
            "runbook run upgrade-with-downtime --sim-fault upgrade-cancelled",
        )),
        fix: "Use one of the faults the help line lists (`runbook run --help` lists them too).",
    },
    Entry {
        code: "runbook::cluster::fault_needs_server",
        severity: Severity::Error,
        summary: "A simulator fault that needs a server is given without one.",
        cause: "`upgrade-fails` and `unreachable` happen to one server, written after a colon.",
        example: Some(Example::command(
            "runbook run upgrade-with-downtime --sim-fault upgrade-fails",
        )),
        fix: "Name the server: `--sim-fault upgrade-fails:mgt-2`.",
    },
    Entry {
        code: "runbook::cluster::fault_unknown_server",
        severity: Severity::Error,
        summary: "A simulator fault names a server the simulated cluster does not have.",
        cause: "The simulated servers are `mgt-1` to `mgt-N`, N being `--sim-servers` (3 by \
default).",
        example: Some(Example::command(
            "runbook run upgrade-with-downtime --sim-fault unreachable:mgt-4",
        )),
        fix: "Name one of the simulated servers, or raise `--sim-servers`.",
    },
    Entry {
        code: "runbook::cluster::no_servers",
        severity: Severity::Error,
        summary: "A simulated cluster of zero servers was asked for.",
        cause: "`--sim-servers 0`: an HA cluster needs at least its Active.",
        example: Some(Example::command(
            "runbook run upgrade-with-downtime --sim-servers 0",
        )),
        fix: "Pass `--sim-servers 1` or more (the default is 3).",
    },
    Entry {
        code: "runbook::cluster::target_not_newer",
        severity: Severity::Error,
        summary: "The target version is not newer than the simulated servers' version.",
        cause: "The simulated servers start on `7.3.4`; `--set version=...` must name a newer \
version for an upgrade to make sense.",
        example: Some(Example::command(
            "runbook run upgrade-with-downtime --set version=7.3.0",
        )),
        fix: "Set a newer version, e.g. `--set version=7.4.0` (the default).",
    },
    Entry {
        code: "runbook::cluster::refused",
        severity: Severity::Error,
        summary: "The cluster model refused an operation: a precondition is not met.",
        cause: "The model checks each operation's precondition as the product does (the Active \
cannot be excluded, a Standby must be excluded before it is initialized again, the versions \
must match...) and answers with the product's kind of message. Through a connector this is \
`runbook::connector::refused_action`; the verifier reports it as \
`runbook::verify::unchecked_precondition`.",
        example: None,
        fix: "Bring the cluster into the state the operation needs first; the message says \
which precondition failed.",
    },
    Entry {
        code: "runbook::cluster::failed",
        severity: Severity::Error,
        summary: "An operation of the cluster model started but did not succeed.",
        cause: "A background operation ended badly: the installer failed, the upgrade was \
cancelled and reverted, the activation wizard stopped before its last phase, an \
initialization lost its Active. Through a connector this is \
`runbook::connector::operation_failed` or `runbook::connector::upgrade_cancelled`.",
        example: None,
        fix: "Read the cluster state: the message says in which state the server was left. \
Handle the failure with a What-if in the runbook.",
    },
    Entry {
        code: "runbook::cluster::unreachable",
        severity: Severity::Error,
        summary: "A server of the cluster model does not answer.",
        cause: "The `unreachable:SERVER` fault cut the server off: every request to it times \
out. Through a connector this is `runbook::connector::timeout`.",
        example: None,
        fix: "Exclude the server from replication or repair the network, then resume.",
    },
    Entry {
        code: "runbook::cluster::stopped",
        severity: Severity::Error,
        summary: "An operation was sent to a stopped server of the cluster model.",
        cause: "A stopped server answers nothing; only `start-server` (and the installer) act \
on it. Through a connector this is `runbook::connector::refused`.",
        example: None,
        fix: "Start the server first (`start-server(server: ...)`), or check `server.running`.",
    },
    Entry {
        code: "runbook::cluster::unknown_server",
        severity: Severity::Error,
        summary: "An operation names a server the cluster model does not have.",
        cause: "The simulated servers are `mgt-1` to `mgt-N`. Through a connector this is \
`runbook::connector::unknown_server`.",
        example: None,
        fix: "Name a server of the cluster; read servers by role (`active()`, `standbys()`) \
rather than by name.",
    },
    Entry {
        code: "runbook::sim::bind",
        severity: Severity::Error,
        summary: "`runbook sim serve` cannot listen on the address.",
        cause: "The `--addr` is malformed, the port is already in use (another \
`runbook sim serve`?), or the system does not allow it (a port below 1024 without \
privileges).",
        example: Some(Example::command("runbook sim serve --addr 127.0.0.1:99999")),
        fix: "Pick another address with `--addr`; port 0 picks a free port, printed in the \
`listening on` line.",
    },
    Entry {
        code: "runbook::sim::weak_key",
        severity: Severity::Error,
        summary: "The API key given to `runbook sim serve` is shorter than 16 characters.",
        cause: "`RUNBOOK_SIM_API_KEY` is the one secret between the simulator and its \
clients; a short key can be guessed by anyone who reaches the address.",
        example: Some(Example::command(
            "RUNBOOK_SIM_API_KEY=secret runbook sim serve --addr 127.0.0.1:0",
        )),
        fix: "Use at least 16 characters (`openssl rand -hex 16`), or unset the variable and \
let `sim serve` generate one.",
    },
    Entry {
        code: "runbook::sim::plain_http",
        severity: Severity::Warning,
        summary: "`runbook sim serve` listens beyond loopback over plain HTTP.",
        cause: "With an `--addr` that is not a loopback address, other machines reach the \
simulator, and the API key and every answer cross the network unencrypted.",
        example: None,
        fix: "Keep `--addr 127.0.0.1:PORT`, or put a TLS-terminating reverse proxy in front \
(`docs/http-api.md` says how the simulator follows it).",
    },
    Entry {
        code: "runbook::sim::state",
        severity: Severity::Error,
        summary: "`runbook sim serve --state FILE` cannot resume the cluster saved in FILE.",
        cause: "The state file exists but cannot be read, or is not a cluster saved by \
`runbook sim serve` (another JSON file, a file from an incompatible version, a truncated \
file).",
        example: Some(
            Example::command("runbook sim serve --addr 127.0.0.1:0 --state state.json")
                .with_file("state.json", "{}\n"),
        ),
        fix: "Fix the path, or delete the file to start a fresh cluster.",
    },
    Entry {
        code: "runbook::sim::config",
        severity: Severity::Error,
        summary: "The options of `runbook sim serve` do not describe a usable cluster.",
        cause: "`--servers` is 0, or a `--sim-fault` names a server the cluster does not have.",
        example: Some(Example::command(
            "runbook sim serve --addr 127.0.0.1:0 --servers 0",
        )),
        fix: "See `runbook sim serve --help`: at least one server, and faults that name \
`mgt-1` to `mgt-N`.",
    },
];
