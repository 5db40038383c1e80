//! `runbook::connector::*` and `runbook::inventory::*`: reaching the target
//! failed ([`crate::connect::ConnectorError`], [`crate::connect::InventoryError`]).

use super::{Entry, Example, Phase, Severity};

/// The connector phase.
pub static PHASE: Phase = Phase {
    name: "connector",
    title: "Target and connector errors",
    intro: "Reported when `run`, `resume` or `plan` cannot use the target: the inventory file, \
the API key, the network, the SMC API, console commands, operations performed by the \
operator. Before the run changes anything they are reported with their own code and the \
command exits 2. Once a step is running, an operation's error makes the step fail: it is \
reported as `runbook::run::step_failed`, with this error's message as the reason and its code \
in the help line (\"the target reported `runbook::connector::...`\"); with `--format json`, \
the code is the `error_code` of the `operation_finished` event and the `cause_code` of the \
failed step's `step_finished` and of `run_finished`.",
    entries: ENTRIES,
};

/// An inventory whose API key variable is never set.
const INVENTORY_WITHOUT_KEY: &str = r#"
[api]
url = "https://mgt-1.example.net:8082"
api_key_env = "EXAMPLE_UNSET_API_KEY"

[[servers]]
name = "mgt-1"
host = "mgt-1.example.net"
"#;

/// An inventory for `runbook sim serve` whose `stop` command always fails.
const INVENTORY_WITH_FAILING_STOP: &str = r#"
[api]
url = "http://127.0.0.1:8082"
api_key_env = "SMC_API_KEY"

[[servers]]
name = "mgt-1"
host = "mgt-1"

[[servers]]
name = "mgt-2"
host = "mgt-2"

[[servers]]
name = "mgt-3"
host = "mgt-3"

[console]
stop = ["false"]
"#;

static ENTRIES: &[Entry] = &[
    Entry {
        code: "runbook::connector::wrong_key",
        severity: Severity::Error,
        summary: "The API key was rejected at login.",
        cause: "The SMC API (or `runbook sim serve`) refused the key read from the environment: \
`RUNBOOK_API_KEY` for a `--target http://...`, the variable named by the inventory's \
`api_key_env` (or the file of `api_key_file`) for an inventory target. The key itself is \
never printed.",
        example: Some(
            Example::command(
                "RUNBOOK_SIM_API_KEY=right runbook sim serve --addr 127.0.0.1:8082 &\n\
RUNBOOK_API_KEY=wrong runbook plan upgrade-with-downtime --target http://127.0.0.1:8082",
            )
            .by_hand(),
        ),
        fix: "Put the right key in that variable (for `runbook sim serve`: the key it printed \
at start, or the one in `RUNBOOK_SIM_API_KEY`).",
    },
    Entry {
        code: "runbook::connector::session_expired",
        severity: Severity::Error,
        summary: "The API session expired and logging in again did not help.",
        cause: "The API answered 401 to a request of an open session; the connector logged in \
again and the new session was refused at once too. Usually the server's session timeout is \
very short, or the key was revoked during the run.",
        example: None,
        fix: "Check the SMC's session settings and the key, then `runbook resume` the run.",
    },
    Entry {
        code: "runbook::connector::refused",
        severity: Severity::Error,
        summary: "The connection to the target could not be made.",
        cause: "Nothing answers at the API address (the server or `runbook sim serve` is not \
running, a wrong host or port, a firewall), or the TLS handshake failed. For the simulator, \
an operation sent to a stopped server is refused the same way.",
        example: Some(Example::command(
            "RUNBOOK_API_KEY=any runbook plan upgrade-with-downtime --target http://127.0.0.1:1",
        )),
        fix: "Check the address (`--target`, or the inventory's `[api] url` and the servers' \
`api`) and that the server runs. For a rehearsal, start one with `runbook sim serve`.",
    },
    Entry {
        code: "runbook::connector::tls_verification",
        severity: Severity::Error,
        summary: "The server's TLS certificate could not be verified.",
        cause: "The target is reached over `https://` and its certificate is not trusted: \
signed by a CA this machine does not trust (an internal CA, a self-signed certificate), \
expired, or issued for another host name than the one in the address. Verification is on \
unless it is turned off explicitly.",
        example: Some(
            Example::command(
                "RUNBOOK_API_KEY=any runbook plan upgrade-with-downtime --target https://self-signed.example.net:8082",
            )
            .by_hand(),
        ),
        fix: "Trust the CA that signed the certificate with `--ca-cert FILE` (inventory: \
`[tls] ca_file`), or fix the address to match the certificate's name. Only in a lab, turn \
verification off with `--insecure-skip-tls-verify` (inventory: `[tls] verify = false`).",
    },
    Entry {
        code: "runbook::connector::cluster_in_use",
        severity: Severity::Error,
        summary: "Another runner holds the cluster: this run or resume is refused before it acts.",
        cause: "A run takes a lease on the cluster before it reads or acts, and gives it back \
when it ends. On `runbook sim serve` the server grants it and refuses it to a second runner; \
the holder renews it every few seconds, and a lease not renewed for 30 s (`sim serve \
--lease-stale-after`) is stale: its runner is gone. On an inventory target the lease is a \
lock file shared by every runner on this machine (`RUNBOOK_LOCK_DIR`, default \
`runbook-locks` in the temporary folder), released when its process ends. A resume of the \
run that holds the lease, on the same host, takes it back.",
        example: Some(
            Example::command(
                "runbook run upgrade-with-downtime --yes --target http://127.0.0.1:8082   # while another run acts there",
            )
            .by_hand(),
        ),
        fix: "Wait for the other run to end. If its runner is gone (its process killed, its \
machine down) and the lease is stale, take the cluster over with `--take-over`; a live \
runner's lease is never taken.",
    },
    Entry {
        code: "runbook::connector::local_lock_only",
        severity: Severity::Warning,
        summary: "The cluster is locked against runners on this machine only.",
        cause: "A real SMC publishes no lease: a run against an inventory target holds a lock \
file that every runner on this machine shares, so a second run from this machine is \
refused. A runner on another machine, or a person at a Management Client, is not excluded. \
Reported once, right after `run_started`.",
        example: Some(
            Example::command("runbook run upgrade-with-downtime --target inventory.toml").by_hand(),
        ),
        fix: "Run upgrades of one cluster from one machine (a jump host), and tell the other \
administrators a run is under way.",
    },
    Entry {
        code: "runbook::connector::tls_verification_off",
        severity: Severity::Warning,
        summary: "TLS certificate verification is turned off for this target.",
        cause: "`--insecure-skip-tls-verify` was given, or the inventory says \
`[tls] verify = false`. The run accepts any certificate, so anyone between this machine \
and the SMC can read the API key and change what the run sees. Reported once for an \
`https://` target, right after `run_started` (on stderr for `plan`).",
        example: Some(
            Example::command(
                "RUNBOOK_API_KEY=... runbook plan upgrade-with-downtime --target https://mgt-1.example.net:8082 --insecure-skip-tls-verify",
            )
            .by_hand(),
        ),
        fix: "Trust the server's CA with `--ca-cert FILE` (inventory: `[tls] ca_file`) and \
drop the opt-out.",
    },
    Entry {
        code: "runbook::connector::timeout",
        severity: Severity::Error,
        summary: "A server did not answer in time.",
        cause: "A request (or a console command) took longer than its limit: the inventory's \
`request_timeout` (default 60s), `operation_timeout` for a background operation, the \
console `timeout`. The server may be down, overloaded or cut off. The simulator's \
`unreachable:SERVER` fault plays this: the step that reads that server fails with \
\"did not answer within 30s\".",
        example: Some(Example::command(
            "runbook run upgrade-with-downtime --yes --sim-fault unreachable:mgt-2",
        )),
        fix: "Check the server and the network; exclude an unreachable Standby from \
replication if the procedure allows it; then `runbook resume`. Raise the inventory's \
timeouts if the server is merely slow.",
    },
    Entry {
        code: "runbook::connector::server_error",
        severity: Severity::Error,
        summary: "The API answered with a 5xx status.",
        cause: "The SMC failed internally while serving the request. Idempotent reads are \
retried (`read_retries`, with backoff) before this is reported; actions are never retried.",
        example: None,
        fix: "Look at the SMC's logs, fix the server, then `runbook resume`.",
    },
    Entry {
        code: "runbook::probe::target",
        severity: Severity::Error,
        summary: "`runbook probe` was given the in-process simulator.",
        cause: "`probe` reads what a real Management Server's API answers; the in-process \
simulator (`--target sim`) has no API to read.",
        example: Some(Example::command("runbook probe --target sim")),
        fix: "Give the inventory of a real setup, or `--target http://HOST:PORT` for a \
`runbook sim serve`.",
    },
    Entry {
        code: "runbook::probe::record",
        severity: Severity::Error,
        summary: "`runbook probe --record DIR` cannot write its folder.",
        cause: "The recording is written as a fixture folder (`situation.json` and one \
`answers.json` per server). The folder must be new or empty, so that a recording never \
mixes with another, and writable.",
        example: None,
        fix: "Give `--record` a new or empty folder that can be written.",
    },
    Entry {
        code: "runbook::connector::unsupported_version",
        severity: Severity::Error,
        summary: "A server runs an SMC version older than 7.3.",
        cause: "The connector reads each server's version (`system` → `smc_version`) when it \
logs in. The HA API it drives (activation on the target Standby, `full_replication`, \
`exclude`) is the one of SMC 7.3 and later; older versions answer differently, so nothing \
is sent to them.",
        example: None,
        fix: "Bring the setup to SMC 7.3 or later with the product's own procedure first.",
    },
    Entry {
        code: "runbook::connector::no_session_cookie",
        severity: Severity::Error,
        summary: "The login was accepted but no session cookie came back.",
        cause: "The SMC API can track sessions with SSL sessions instead of cookies; the \
official client and runbook need the `JSESSIONID` cookie (or an `Authorization` header) \
from the login answer to send back on every request.",
        example: None,
        fix: "Set the SMC API's session tracking to cookies in the Management Server's API \
settings.",
    },
    Entry {
        code: "runbook::connector::known_issue",
        severity: Severity::Error,
        summary: "The operation would meet a published known issue of the product: it was not sent.",
        cause: "On SMC 7.3.0 to 7.3.3 and 7.4.0 to 7.4.1, excluding a stopped Standby \
through the API fails (known issue SMC-65140). The connector knows the Active's version and \
that the Standby does not answer, so it stops before sending the request; the run stops \
resumably.",
        example: None,
        fix: "Start the Standby first and exclude it then, or exclude it on the Active's \
console (`sgReplicationAdmin -exclude standby-server-key=KEY`), then `runbook resume`.",
    },
    Entry {
        code: "runbook::connector::unexpected_status",
        severity: Severity::Error,
        summary: "The API answered with a status the connector does not expect.",
        cause: "The address answers HTTP, but not as the SMC API does (a 404 for the API's \
entry point, a redirect...): it is another web server, a proxy, or an API version the \
connector does not support.",
        example: Some(
            Example::command(
                "python3 -m http.server 8000 &\n\
RUNBOOK_API_KEY=any runbook plan upgrade-with-downtime --target http://127.0.0.1:8000",
            )
            .by_hand(),
        ),
        fix: "Check the inventory's `[api] url` (and `version`) or the `--target` address.",
    },
    Entry {
        code: "runbook::connector::malformed_response",
        severity: Severity::Error,
        summary: "The API answered something that is not the expected JSON.",
        cause: "The body of a response could not be read as the SMC API's JSON (a field \
missing, an HTML error page, a login without a session cookie). Reads are retried before \
this is reported.",
        example: None,
        fix: "Check that the address is the SMC API of a supported version; look at the \
server's logs.",
    },
    Entry {
        code: "runbook::connector::refused_action",
        severity: Severity::Error,
        summary: "The target refused an operation: its precondition is not met.",
        cause: "The product checked the operation's precondition and refused it — excluding \
the Active, initializing a Standby that was not excluded, activating a server that is not \
Standby... Its message (and details) say which. During a step this makes the step fail.",
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
        fix: "Bring the cluster into the state the operation needs, or check the precondition \
in the runbook (`check`, `if`) before the operation; `runbook verify` finds such paths \
ahead of time (`runbook::verify::unchecked_precondition`).",
    },
    Entry {
        code: "runbook::connector::operation_failed",
        severity: Severity::Error,
        summary: "An operation ran but did not succeed.",
        cause: "The operation was accepted and started but ended in failure: the installer \
failed, an initialization lost its Active, the operator reported a manual operation as \
failed. The simulator's `upgrade-fails:SERVER` fault plays the installer case.",
        example: Some(Example::run(
            r#"
runbook demo {
    title "A failing installer"
    step upgrade-standbys "Upgrade the Standby Servers" {
        for standby in standbys() {
            stop-server(server: standby)
            upgrade(server: standby, version: 7.4.0)
        }
    }
}
"#,
            "runbook run example.runbook --sim-fault upgrade-fails:mgt-2",
        )),
        fix: "Handle it in the runbook with a `what-if ... when failed(STEP)`; on the servers, \
look at the product's logs, repair, then `runbook resume`.",
    },
    Entry {
        code: "runbook::connector::upgrade_cancelled",
        severity: Severity::Error,
        summary: "An upgrade was cancelled and the server reverted to its previous version.",
        cause: "The SMC installer cancelled the upgrade and rolled the server back: it is on \
its old version, and replication is most likely broken. The simulator's \
`active-upgrade-cancelled` fault plays it; the shipped runbooks handle it with a What-if \
(`when upgrade-cancelled(SERVER)`), so only a runbook without one fails the step.",
        example: Some(Example::run(
            r#"
runbook demo {
    title "An upgrade cancelled by the installer"
    let initial_active = active()
    step stop-servers "Stop every server" {
        for server in servers() {
            stop-server(server: server)
        }
    }
    step upgrade-active "Upgrade the Active Server" {
        upgrade(server: initial_active, version: 7.4.0)
    }
}
"#,
            "runbook run example.runbook --sim-fault active-upgrade-cancelled",
        )),
        fix: "Exclude the Standbys and re-initialize them from the reverted server (the \
procedure pages' \"Cancel Active Server Upgrade\"), then upgrade again when ready.",
    },
    Entry {
        code: "runbook::connector::console",
        severity: Severity::Error,
        summary: "A console command failed or could not be started.",
        cause: "The inventory's `[console]` command for the operation (stop, start, upgrade, \
backup, restore...) exited with a non-zero status, could not be started (program not \
found), or ran past its `timeout`. The message shows the exit status and the end of its \
output. Commands are run as argv, without a shell.",
        example: Some(
            Example::command(
                "RUNBOOK_SIM_API_KEY=secret runbook sim serve --addr 127.0.0.1:8082 &\n\
SMC_API_KEY=secret runbook run upgrade-with-downtime --yes --target inventory.toml",
            )
            .with_file("inventory.toml", INVENTORY_WITH_FAILING_STOP)
            .by_hand(),
        ),
        fix: "Run the command by hand on the machine (with the `{host}`/`{server}`/`{version}` \
values filled in), fix it or the inventory, then `runbook resume`.",
    },
    Entry {
        code: "runbook::connector::manual",
        severity: Severity::Error,
        summary: "The operator did not perform a manual operation.",
        cause: "The inventory marks the operation `\"manual\"`: the operator was asked to \
perform it and answered \"not done\" (or the answers file said `\"not-done\"`). \
`--yes` never answers these prompts.",
        example: None,
        fix: "Perform the operation, then `runbook resume` and answer \"done\" \
(`\"manual.OPERATION.SERVER\" = \"done\"` in an answers file).",
    },
    Entry {
        code: "runbook::connector::interrupted",
        severity: Severity::Error,
        summary: "The operator pressed Ctrl-C at the prompt of a manual operation.",
        cause: "The inventory marks the operation `\"manual\"` and the operator was asked to \
perform it; Ctrl-C at that prompt stops the run (outcome `stopped`) instead of counting as a \
failed operation, so no What-if fires. Nothing is journaled for the prompt: the step is \
journaled as interrupted and a resumed run asks again.",
        example: None,
        fix: "Perform the operation if it is still needed, then `runbook resume JOURNAL` and \
answer the prompt.",
    },
    Entry {
        code: "runbook::connector::unknown_server",
        severity: Severity::Error,
        summary: "An operation names a server that is not part of the target.",
        cause: "The server is not in the inventory's `[[servers]]` (for console operations and \
per-server API addresses) or not in the cluster the API reports. Usually the inventory \
lists the servers under other names than the SMC knows them by.",
        example: None,
        fix: "Name each server in the inventory exactly as the SMC does (`server_name=`); \
`runbook plan` lists the target's servers.",
    },
    Entry {
        code: "runbook::connector::config",
        severity: Severity::Error,
        summary: "The target's configuration cannot be used.",
        cause: "Something the connector needs before it can talk to the target is missing or \
wrong: the environment variable that should hold the API key is not set \
(`RUNBOOK_API_KEY` for a URL target, the inventory's `api_key_env`), the key file or the CA \
file cannot be read, the inventory has no command for a console operation, or an operation \
cannot be performed the way the inventory says.",
        example: Some(
            Example::command("runbook plan upgrade-with-downtime --target inventory.toml")
                .with_file("inventory.toml", INVENTORY_WITHOUT_KEY),
        ),
        fix: "Do what the message says: set the variable, fix the path, or add the missing key \
to the inventory (see `docs/inventory.md`).",
    },
    Entry {
        code: "runbook::inventory::unreadable",
        severity: Severity::Error,
        summary: "The inventory file given with `--target` cannot be read.",
        cause: "`--target` takes `sim`, `http://HOST:PORT` or the path of an inventory file; \
anything else is read as a path, and that file does not exist or cannot be read.",
        example: Some(Example::command(
            "runbook plan upgrade-with-downtime --target prod.toml",
        )),
        fix: "Check the path, or use `--target sim` for a rehearsal on the simulated cluster.",
    },
    Entry {
        code: "runbook::inventory::invalid",
        severity: Severity::Error,
        summary: "The inventory file is not a valid inventory.",
        cause: "The TOML is malformed, or a value breaks a rule of the inventory: an unknown key \
(a typo such as `verfy`), a console command written as a string instead of a list of \
arguments, an unknown placeholder, a malformed duration, two servers with one name, a \
server without an API address, no (or two) API key sources. The label points at the value.",
        example: Some(
            Example::command("runbook plan upgrade-with-downtime --target inventory.toml")
                .with_file(
                    "inventory.toml",
                    r#"
[api]
url = "https://mgt-1.example.net:8082"
api_key_env = "SMC_API_KEY"

[[servers]]
name = "mgt-1"
host = "mgt-1.example.net"

[console]
stop = "systemctl stop sgMgtServer"
"#,
                ),
        ),
        fix: "Fix the value the label points to; `docs/inventory.md` documents every key, and \
`examples/inventory.toml` is a complete example.",
    },
];
