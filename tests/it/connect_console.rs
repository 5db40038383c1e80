//! The `console` connector against real local commands (run as argv, never
//! through a shell), the `manual` connector with a scripted operator, and an
//! inventory target driving `runbook sim serve` through the `smc` connector.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use runbook::cluster::{Operation, OperationOutput, SimConfig, Version};
use runbook::connect::sim_server::RunningSimServer;
use runbook::connect::smc::SmcConnector;
use runbook::connect::{
    Connector, ConsoleConnector, ConsoleOperations, Inventory, ManualAnswer, ManualConnector,
    ManualRequest, OperatorPrompt,
};

use crate::support::{code, serve_sim};

fn console(
    commands: &str,
    hosts: &[(&str, &str)],
    manual: Option<ManualConnector>,
) -> ConsoleConnector {
    let mut text = String::from("[api]\nurl = \"http://127.0.0.1:1\"\napi_key_env = \"UNUSED\"\n");
    for (name, host) in hosts {
        text.push_str(&format!("[[servers]]\nname = {name:?}\nhost = {host:?}\n"));
    }
    text.push_str("[console]\n");
    text.push_str(commands);
    let inventory =
        Inventory::parse("test.toml", &text).unwrap_or_else(|error| panic!("{error:?}"));
    ConsoleConnector::from_inventory(&inventory, manual)
}

fn stop(server: &str) -> Operation {
    Operation::StopServer {
        server: server.into(),
    }
}

#[tokio::test]
async fn runs_the_command_and_reports_success() {
    let connector = console("stop = [\"true\"]\n", &[("mgt-1", "host-1")], None);
    assert_eq!(
        connector
            .perform_console(&stop("mgt-1"))
            .await
            .expect("true"),
        OperationOutput::Done
    );
}

#[tokio::test]
async fn a_value_with_shell_syntax_stays_one_argument() {
    let dangerous = "mgt-1; rm -rf /tmp/runbook-never";
    let host = "$(touch /tmp/runbook-never) `id`";
    let connector = console(
        "backup = [\"printf\", \"%s|%s\\n\", \"{server}\", \"{host}\"]\nupgrade = [\"printf\", \"%s\", \"--version={version}\"]\n",
        &[(dangerous, host)],
        None,
    );
    let backup = Operation::Backup {
        server: dangerous.into(),
    };
    assert_eq!(
        connector.argv(&backup).expect("argv"),
        vec![
            "printf".to_owned(),
            "%s|%s\n".to_owned(),
            dangerous.to_owned(),
            host.to_owned()
        ]
    );
    let output = connector.perform_console(&backup).await.expect("printf");
    assert_eq!(
        output,
        OperationOutput::Backup {
            backup_id: format!("{dangerous}|{host}")
        }
    );
    assert!(!std::path::Path::new("/tmp/runbook-never").exists());
    let upgrade = Operation::Upgrade {
        server: dangerous.into(),
        version: Version::from_parts(vec![7, 4, 0]),
    };
    assert_eq!(
        connector.argv(&upgrade).expect("argv"),
        vec!["printf", "%s", "--version=7.4.0"]
    );
}

#[tokio::test]
async fn a_failing_command_reports_its_status_and_output() {
    let connector = console(
        "stop = [\"false\"]\nstart = [\"sh\", \"-c\", \"echo partial; echo oops >&2; exit 3\"]\nbackup = [\"sh\", \"-c\", \"head -c 100000 /dev/zero | tr '\\\\0' x; exit 1\"]\n",
        &[("mgt-1", "host-1")],
        None,
    );
    let error = connector
        .perform_console(&stop("mgt-1"))
        .await
        .expect_err("false fails");
    assert_eq!(code(&error), "runbook::connector::console");
    assert!(error.to_string().contains("exit status 1"), "{error}");

    let error = connector
        .perform_console(&Operation::StartServer {
            server: "mgt-1".into(),
        })
        .await
        .expect_err("exit 3");
    let message = error.to_string();
    assert!(
        message.contains("exit status 3")
            && message.contains("oops")
            && message.contains("partial"),
        "{message}"
    );

    let error = connector
        .perform_console(&Operation::Backup {
            server: "mgt-1".into(),
        })
        .await
        .expect_err("exit 1");
    let message = error.to_string();
    assert!(
        message.len() < 5000,
        "output is truncated: {} bytes",
        message.len()
    );
    assert!(message.contains('…'), "{}", &message[..200]);
}

#[tokio::test]
async fn timeouts_missing_programs_and_missing_commands_are_errors() {
    let connector = console(
        "timeout = \"200ms\"\nstop = [\"sleep\", \"5\"]\nstart = [\"/nonexistent/runbook-tool\"]\n",
        &[("mgt-1", "host-1")],
        None,
    );
    let error = connector
        .perform_console(&stop("mgt-1"))
        .await
        .expect_err("too slow");
    assert_eq!(code(&error), "runbook::connector::timeout");
    let error = connector
        .perform_console(&Operation::StartServer {
            server: "mgt-1".into(),
        })
        .await
        .expect_err("no such program");
    assert_eq!(code(&error), "runbook::connector::console");
    assert!(error.to_string().contains("cannot start"), "{error}");
    let error = connector
        .perform_console(&Operation::Backup {
            server: "mgt-1".into(),
        })
        .await
        .expect_err("not configured");
    assert_eq!(code(&error), "runbook::connector::config");
    assert!(error.to_string().contains("backup = "), "{error}");
    let error = connector
        .perform_console(&stop("mgt-9"))
        .await
        .expect_err("unknown server");
    assert_eq!(code(&error), "runbook::connector::unknown_server");
}

/// An operator that answers from a script and records what it was asked.
struct ScriptedOperator {
    answers: Mutex<Vec<ManualAnswer>>,
    asked: Mutex<Vec<ManualRequest>>,
}

#[async_trait]
impl OperatorPrompt for ScriptedOperator {
    async fn ask(&self, request: &ManualRequest) -> ManualAnswer {
        self.asked.lock().expect("lock").push(request.clone());
        self.answers.lock().expect("lock").remove(0)
    }
}

#[tokio::test]
async fn manual_operations_ask_the_operator() {
    let operator = Arc::new(ScriptedOperator {
        answers: Mutex::new(vec![
            ManualAnswer::Done {
                observed: "backup-2026-11-24".into(),
            },
            ManualAnswer::Failed {
                observed: "the installer said: disk full".into(),
            },
            ManualAnswer::NotDone {
                reason: "no maintenance window".into(),
            },
        ]),
        asked: Mutex::new(Vec::new()),
    });
    let hosts = BTreeMap::from([("mgt-1".to_owned(), "mgt-1.example.net".to_owned())]);
    let manual = ManualConnector::new(operator.clone(), hosts);
    let connector = console(
        "backup = \"manual\"\nupgrade = \"manual\"\nstop = \"manual\"\n",
        &[("mgt-1", "mgt-1.example.net")],
        Some(manual),
    );

    let output = connector
        .perform_console(&Operation::Backup {
            server: "mgt-1".into(),
        })
        .await
        .expect("done");
    assert_eq!(
        output,
        OperationOutput::Backup {
            backup_id: "backup-2026-11-24".into()
        }
    );
    let error = connector
        .perform_console(&Operation::Upgrade {
            server: "mgt-1".into(),
            version: Version::from_parts(vec![7, 4, 0]),
        })
        .await
        .expect_err("failed");
    assert_eq!(code(&error), "runbook::connector::operation_failed");
    assert!(error.to_string().contains("disk full"));
    let error = connector
        .perform_console(&stop("mgt-1"))
        .await
        .expect_err("not done");
    assert_eq!(code(&error), "runbook::connector::manual");

    let asked = operator.asked.lock().expect("lock").clone();
    assert_eq!(asked.len(), 3);
    assert!(
        asked[1].instructions.contains("mgt-1.example.net")
            && asked[1].instructions.contains("7.4.0"),
        "{:?}",
        asked[1]
    );

    let without_operator = console("stop = \"manual\"\n", &[("mgt-1", "h")], None);
    let error = without_operator
        .perform_console(&stop("mgt-1"))
        .await
        .expect_err("nobody to ask");
    assert_eq!(code(&error), "runbook::connector::config");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_inventory_target_uses_the_api_and_the_console_commands() {
    let (server, folder) = inventory_target(
        "inventory-key-1",
        "backup = [\"echo\", \"backup-of-{server}-on-{host}\"]\n",
    )
    .await;
    let path = folder.path().join("inventory.toml");
    let inventory = Inventory::load(&path).expect("inventory");
    let smc = SmcConnector::from_inventory(&inventory, None).expect("connector");
    assert!(
        smc.describe().contains("inventory.toml"),
        "{}",
        smc.describe()
    );
    let snapshot = smc.snapshot().await.expect("snapshot");
    assert!(snapshot.is_healthy());
    smc.perform(&Operation::Exclude {
        server: "mgt-2".into(),
    })
    .await
    .expect("exclude through the API");
    assert!(server
        .shared()
        .observed()
        .server("mgt-2")
        .is_some_and(|server| server.excluded));
    let output = smc
        .perform(&Operation::Backup {
            server: "mgt-1".into(),
        })
        .await
        .expect("backup by command");
    assert_eq!(
        output,
        OperationOutput::Backup {
            backup_id: "backup-of-mgt-1-on-mgt-1.lab".into()
        }
    );
    let error = smc
        .perform(&stop("mgt-3"))
        .await
        .expect_err("no stop command");
    assert_eq!(code(&error), "runbook::connector::config");
    server.shutdown().await;
}

/// A `runbook sim serve` on loopback and, in a temporary folder, an inventory
/// of its three servers (key in `smc.key`) ending with `console`, the
/// `[console]` section.
async fn inventory_target(key: &str, console: &str) -> (RunningSimServer, tempfile::TempDir) {
    let server = serve_sim(SimConfig::default(), key, 6000.0).await;
    let url = server.url();
    let folder = tempfile::tempdir().expect("tempdir");
    std::fs::write(folder.path().join("smc.key"), format!("{key}\n")).expect("key file");
    let mut text = String::from(
        "[api]\napi_key_file = \"smc.key\"\nrequest_timeout = \"2s\"\npoll_interval = \"1ms\"\n\n",
    );
    for name in ["mgt-1", "mgt-2", "mgt-3"] {
        text.push_str(&format!(
            "[[servers]]\nname = \"{name}\"\nhost = \"{name}.lab\"\napi = \"{url}/servers/{name}\"\n\n"
        ));
    }
    text.push_str("[console]\n");
    text.push_str(console);
    std::fs::write(folder.path().join("inventory.toml"), text).expect("inventory");
    (server, folder)
}

/// Runs the built binary against an inventory whose backup is `manual`, with
/// or without an answers file; returns the exit code and the JSON events.
async fn run_with_manual_backup(answers: Option<&str>) -> (i32, Vec<serde_json::Value>) {
    let (server, folder) = inventory_target("manual-key-1", "backup = \"manual\"\n").await;
    std::fs::write(
        folder.path().join("backup.runbook"),
        "runbook manual-backup {\n    title \"Back up by hand\"\n    step backup \"Back up the Active\" {\n        backup(server: active())\n    }\n}\n",
    )
    .expect("runbook");
    let mut args = vec![
        "run",
        "backup.runbook",
        "--target",
        "inventory.toml",
        "--format",
        "json",
    ];
    if let Some(answers) = answers {
        std::fs::write(folder.path().join("answers.toml"), answers).expect("answers");
        args.extend(["--answers", "answers.toml"]);
    }
    let args: Vec<String> = args.into_iter().map(String::from).collect();
    let dir = folder.path().to_path_buf();
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_runbook"))
            .current_dir(dir)
            .args(args)
            .stdin(std::process::Stdio::null())
            .output()
            .expect("runbook runs")
    })
    .await
    .expect("join");
    server.shutdown().await;
    let events = String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect();
    (output.status.code().unwrap_or(-1), events)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manual_operation_of_an_inventory_is_answered_from_the_answers_file() {
    let (code, events) = run_with_manual_backup(Some("\"manual.backup.mgt-1\" = \"done\"\n")).await;
    let last = events.last().expect("events");
    assert_eq!(last["event"], "run_finished", "{events:?}");
    assert_eq!(last["outcome"], "succeeded", "{events:?}");
    assert_eq!(code, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manual_operation_without_an_operator_fails_at_once_naming_its_prompt() {
    let (code, events) = run_with_manual_backup(None).await;
    let last = events.last().expect("events");
    assert_eq!(last["event"], "run_finished", "{events:?}");
    assert_eq!(last["outcome"], "failed", "{events:?}");
    let text = serde_json::to_string(&events).expect("json");
    assert!(text.contains("manual.backup.mgt-1"), "{text}");
    assert_eq!(code, 1);
}
