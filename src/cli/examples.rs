//! The "Examples:" blocks that `--help` shows after each command's options
//! (clap's `after_help`), in one place so that they read alike: a line that
//! says what the example does, then the command.

/// `runbook --help`: a tour of the commands.
pub const ROOT: &str = "\
Examples:
  Rehearse an upgrade on the built-in simulated cluster:
    runbook run upgrade-with-downtime
  See a procedure's flow (Mermaid, or --format dot):
    runbook graph upgrade-no-downtime
  Check and format your own runbooks:
    runbook check runbooks/ && runbook fmt --check runbooks/";

/// `runbook check --help`.
pub const CHECK: &str = "\
Examples:
  Check every .runbook file under the current directory:
    runbook check
  Check files and directories, diagnostics as JSON for an editor or CI:
    runbook check runbooks/ my.runbook --format json
  Check a shipped runbook by name:
    runbook check upgrade-with-downtime";

/// `runbook fmt --help`.
pub const FMT: &str = "\
Examples:
  Format every .runbook file under the current directory:
    runbook fmt
  Format these files and directories:
    runbook fmt runbooks/ my.runbook
  In CI: change nothing, exit 1 and name the files that need formatting:
    runbook fmt --check runbooks/
  From an editor: standard input to standard output:
    runbook fmt - < my.runbook";

/// `runbook graph --help`.
pub const GRAPH: &str = "\
Examples:
  Mermaid flowchart of a shipped runbook, for a Markdown page:
    runbook graph upgrade-with-downtime
  Render a runbook with Graphviz:
    runbook graph my.runbook --format dot | dot -Tsvg > my.svg";

/// `runbook completions --help`.
pub const COMPLETIONS: &str = "\
Examples:
  bash:
    runbook completions bash > ~/.local/share/bash-completion/completions/runbook
  zsh (a directory of $fpath):
    runbook completions zsh > \"${fpath[1]}/_runbook\"
  fish:
    runbook completions fish > ~/.config/fish/completions/runbook.fish
  PowerShell:
    runbook completions powershell >> $PROFILE";

/// `runbook run --help` (for the command's own file).
pub const RUN: &str = "\
Examples:
  Rehearse on the in-process simulated cluster (the default target):
    runbook run upgrade-with-downtime
  Rehearse a fault, answers from a file, JSON events on stdout:
    runbook run upgrade-no-downtime --sim-fault active-upgrade-cancelled --answers answers.toml --format json
  Run against the servers of an inventory, journaling for `runbook resume`:
    runbook run upgrade-with-downtime --target prod.toml --set version=7.4.0 --journal upgrade.journal
  Rehearse against a `runbook sim serve` behind TLS, trusting its CA, with a longer request timeout:
    RUNBOOK_API_KEY=... runbook run upgrade-with-downtime --target https://sim.lab:8443 --ca-cert lab-ca.pem --request-timeout 2m
  Run one What-if branch directly:
    runbook run upgrade-with-downtime --what-if installer-failed
  Run only as proven and approved by two trusted approvers, within a window ending at 22:00:
    runbook run upgrade-no-downtime --target prod.toml --require-proof cert.json --approvals 2 --trusted-keys approvers/ --window-ends 22:00";

/// `runbook resume --help`.
pub const RESUME: &str = "\
Examples:
  Continue an interrupted run where it stopped:
    runbook resume upgrade.journal
  Continue without questions, answers from a file:
    runbook resume upgrade.journal --answers answers.toml --yes
  Continue a run that timed out, allowing the slow server more time:
    runbook resume upgrade.journal --request-timeout 5m
  Continue a run stopped by its maintenance window, in the next one:
    runbook resume upgrade.journal --window-ends 2026-12-08T22:00:00+01:00";

/// `runbook fleet run --help`.
pub const FLEET_RUN: &str = "\
Examples:
  Upgrade every cluster of a fleet file, four at a time:
    runbook fleet run upgrade-with-downtime fleet.toml
  Two at a time, starting no new cluster once one failed, one JSON document at the end:
    runbook fleet run upgrade-with-downtime fleet.toml --parallel 2 --max-failures 1 --json
  Tell the team's chat how each cluster goes (each inventory's `notify` webhooks too):
    runbook fleet run upgrade-with-downtime fleet.toml --notify https://chat.example/hooks/T0/B0/x";

/// `runbook fleet resume --help`.
pub const FLEET_RESUME: &str = "\
Examples:
  Continue every unfinished cluster (the journals of `runs/fleet/`):
    runbook fleet resume fleet.toml
  The journals elsewhere:
    runbook fleet resume fleet.toml --journal-dir /srv/upgrades/emea";

/// `runbook plan --help`.
pub const PLAN: &str = "\
Examples:
  What a run would do on the simulated cluster:
    runbook plan upgrade-with-downtime
  What it would do on real servers, changing nothing:
    runbook plan upgrade-no-downtime --target prod.toml --set version=7.4.0";

/// `runbook probe --help`.
pub const PROBE: &str = "\
Examples:
  What the connector reads from each server of a real setup, and why:
    SMC_API_KEY=... runbook probe --target prod.toml
  The same, and the raw answers (redacted) as a test fixture:
    SMC_API_KEY=... runbook probe --target lab.toml --record lab-answers";

/// `runbook verify --help`.
pub const VERIFY: &str = "\
Examples:
  Explore every path, fault and operator choice of a shipped runbook:
    runbook verify upgrade-with-downtime
  Verify your own runbook on four servers, findings as JSON:
    runbook verify my.runbook --servers 4 --format json
  Prove that every path fits a 2-hour maintenance window, each prompt counting 2 minutes:
    runbook verify upgrade-no-downtime --window 2h --prompt-time 2m
  Combine up to three faults on a path (default two):
    runbook verify upgrade-no-downtime --max-faults 3
  Write a proof certificate for approvers to sign (`runbook approve`):
    runbook verify upgrade-no-downtime --certificate cert.json";

/// `runbook sim serve --help`.
pub const SIM_SERVE: &str = "\
Examples:
  Serve a simulated cluster of three servers (prints its API key once):
    runbook sim serve --addr 127.0.0.1:8080 --servers 3
  Then, in another terminal, rehearse against it:
    RUNBOOK_API_KEY=... runbook run upgrade-with-downtime --target http://127.0.0.1:8080";

/// `runbook list --help`.
pub const LIST: &str = "\
Examples:
  The shipped runbooks, with their titles and summaries:
    runbook list";

/// `runbook show --help`.
pub const SHOW: &str = "\
Examples:
  Print a shipped runbook's source:
    runbook show upgrade-with-downtime
  Start your own runbook from a shipped one:
    runbook show upgrade-with-downtime > my-upgrade.runbook";

/// `runbook explain --help`.
pub const EXPLAIN: &str = "\
Examples:
  What a lint rule flags, why, and how to fix it (by code or by name):
    runbook explain RB003
    runbook explain wait-without-timeout
  Any other code a diagnostic printed: its cause, an example and the fix
  (the runbook:: prefix may be left out):
    runbook explain runbook::syntax::unexpected
    runbook explain run::wait_timeout
  Every code, lint rules first, then by phase:
    runbook explain --list";

/// `runbook schema`.
pub const SCHEMA: &str = "\
Examples:
  The published schemas, one line each:
    runbook schema
  The schema of the `run --format json` event stream, to validate a run:
    runbook schema events > events.schema.json
  The same schemas are committed under docs/schemas/.";

/// `runbook lsp --help`.
pub const LSP: &str = "\
Examples:
  Started by an editor, which talks to it on stdin/stdout (see docs/editors.md):
    runbook lsp
  The VS Code extension in editors/vscode/ runs exactly that; other editors
  (Neovim, Helix, Emacs) configure the same command for *.runbook files.";

/// `runbook report --help`.
pub const REPORT: &str = "\
Examples:
  A self-contained HTML page of a run, for the change record:
    runbook report runs/upgrade-with-downtime-20261207T101500Z-1a2b3c4d.jsonl -o report.html
  The same run as Markdown on standard output (for a ticket):
    runbook report run.jsonl
  Markdown into a file, or HTML on standard output:
    runbook report run.jsonl -o report.md
    runbook report run.jsonl --format html > report.html";
/// `runbook keygen --help`.
pub const KEYGEN: &str = "\
Examples:
  Make your approver key (bob.key, private; bob.key.pub, to share):
    runbook keygen --out bob.key --name bob";

/// `runbook approve --help`.
pub const APPROVE: &str = "\
Examples:
  Sign a proof certificate with your key:
    runbook approve cert.json --key bob.key";
