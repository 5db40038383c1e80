//! The `smc` connector against `runbook sim serve` running in-process on
//! `127.0.0.1:0` (real HTTP): every operation, every connector error (played
//! with the simulator's control endpoint) and every contract fault, checked
//! against the in-process `sim` connector running the same script.

use std::time::Duration;

use runbook::cluster::{
    Fault, Mode, Operation, OperationOutput, ReplicationState, SimConfig, Snapshot,
};
use runbook::connect::sim::SimConnector;
use runbook::connect::sim_server::{HttpFault, HttpFaultKind, RunningSimServer};
use runbook::connect::smc::{SmcConnector, SmcServer, SmcSettings};
use runbook::connect::{ApiKey, Connector, ConnectorError};

use crate::support::{code, comparable, serve_sim, upgrade, EVERY_FAULT};

const KEY: &str = "test-key-5f3c9a7e21";
/// Fast enough that an upgrade (12.5 simulated minutes) takes about 0.1 s.
const SPEED: f64 = 6000.0;

async fn serve(sim: SimConfig) -> RunningSimServer {
    serve_sim(sim, KEY, SPEED).await
}

fn settings() -> SmcSettings {
    SmcSettings {
        connect_timeout: Duration::from_secs(2),
        request_timeout: Duration::from_secs(1),
        read_retries: 2,
        retry_backoff: Duration::from_millis(10),
        poll_interval: Duration::from_secs(5),
        operation_timeout: Duration::from_secs(4 * 3600),
        diagnostic_timeout: Duration::from_secs(1),
        ..SmcSettings::default()
    }
}

async fn connect(server: &RunningSimServer) -> SmcConnector {
    SmcConnector::for_sim_url_with(&server.url(), ApiKey::new(KEY), settings())
        .await
        .expect("connect")
}

async fn arm(server: &RunningSimServer, route: &str, kind: HttpFaultKind, count: u32) {
    let response = reqwest::Client::new()
        .post(format!("{}/sim/control/http-fault", server.url()))
        .bearer_auth(KEY)
        .json(&HttpFault {
            route: route.to_owned(),
            kind,
            remaining: count,
        })
        .send()
        .await
        .expect("arm fault");
    assert!(response.status().is_success());
}

fn diagnostic(server: &str) -> Operation {
    Operation::Diagnostic {
        server: server.into(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_the_default_cluster_through_the_api() {
    let server = serve(SimConfig::default()).await;
    let smc = connect(&server).await;
    assert!(smc.describe().contains(&server.url()), "{}", smc.describe());
    let snapshot = smc.snapshot().await.expect("snapshot");
    assert_eq!(snapshot, server.shared().observed());
    assert!(snapshot.is_healthy());
    let output = smc.perform(&diagnostic("mgt-1")).await.expect("diagnostic");
    assert!(
        matches!(output, OperationOutput::Diagnostic { ok: true, .. }),
        "{output:?}"
    );
    let output = smc
        .perform(&Operation::ReplicationStates {
            server: "mgt-1".into(),
        })
        .await
        .expect("states");
    assert_eq!(
        output,
        OperationOutput::ReplicationStates {
            states: vec![
                ("mgt-1".into(), ReplicationState::ActRep),
                ("mgt-2".into(), ReplicationState::StbRep),
                ("mgt-3".into(), ReplicationState::StbRep),
            ]
        }
    );
    smc.logout().await;
    server.shutdown().await;
}

/// The whole downtime upgrade plus every other operation, through the API
/// and the simulator-only console path.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn performs_every_operation() {
    let server = serve(SimConfig::default()).await;
    let smc = connect(&server).await;
    let backup = smc
        .perform(&Operation::Backup {
            server: "mgt-1".into(),
        })
        .await
        .expect("backup");
    assert!(
        matches!(backup, OperationOutput::Backup { .. }),
        "{backup:?}"
    );
    for standby in ["mgt-2", "mgt-3"] {
        smc.perform(&Operation::Exclude {
            server: standby.into(),
        })
        .await
        .expect("exclude");
        smc.perform(&Operation::StopServer {
            server: standby.into(),
        })
        .await
        .expect("stop");
    }
    let snapshot = smc.snapshot().await.expect("snapshot");
    assert!(snapshot
        .server("mgt-2")
        .is_some_and(|server| server.excluded && !server.running));
    smc.perform(&Operation::StopServer {
        server: "mgt-1".into(),
    })
    .await
    .expect("stop active");
    smc.perform(&upgrade("mgt-1"))
        .await
        .expect("upgrade active");
    let snapshot = smc.snapshot().await.expect("snapshot");
    let active = snapshot.server("mgt-1").expect("mgt-1");
    assert_eq!(active.version.to_string(), "7.4.0");
    for standby in ["mgt-2", "mgt-3"] {
        smc.perform(&upgrade(standby))
            .await
            .expect("upgrade standby");
        if !smc
            .snapshot()
            .await
            .expect("snapshot")
            .server(standby)
            .is_some_and(|server| server.running)
        {
            smc.perform(&Operation::StartServer {
                server: standby.into(),
            })
            .await
            .expect("start");
        }
        smc.perform(&Operation::InitStandby {
            server: standby.into(),
        })
        .await
        .expect("init standby");
    }
    let snapshot = smc.snapshot().await.expect("snapshot");
    assert!(snapshot.is_healthy(), "{snapshot:?}");
    assert!(snapshot
        .servers
        .iter()
        .all(|server| server.version.to_string() == "7.4.0"));

    // Switch the Active with the wizard, then back by force.
    smc.perform(&Operation::Activate {
        server: "mgt-2".into(),
    })
    .await
    .expect("activate");
    let snapshot = smc.snapshot().await.expect("snapshot");
    assert_eq!(
        snapshot
            .actives()
            .map(|server| server.name.as_str())
            .collect::<Vec<_>>(),
        ["mgt-2"]
    );
    smc.perform(&Operation::SetStandby {
        server: "mgt-2".into(),
        force: true,
    })
    .await
    .expect("set standby");
    smc.perform(&Operation::StopReplication {
        server: "mgt-2".into(),
    })
    .await
    .expect("stop replication");
    smc.perform(&Operation::ForceActivate {
        server: "mgt-1".into(),
    })
    .await
    .expect("force activate");
    smc.perform(&Operation::RestoreBackup {
        server: "mgt-1".into(),
    })
    .await
    .expect("restore");
    let snapshot = smc.snapshot().await.expect("snapshot");
    assert_eq!(snapshot, server.shared().observed());
    assert_eq!(
        snapshot.actives().next().map(|server| server.name.as_str()),
        Some("mgt-1")
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_action_refused_carries_the_product_message() {
    let server = serve(SimConfig::default()).await;
    let smc = connect(&server).await;
    let error = smc
        .perform(&Operation::Exclude {
            server: "mgt-1".into(),
        })
        .await
        .expect_err("the Active cannot be excluded");
    assert_eq!(code(&error), "runbook::connector::refused_action");
    assert!(error.to_string().contains("cannot be excluded"), "{error}");
    let error = smc
        .perform(&Operation::SetStandby {
            server: "mgt-1".into(),
            force: false,
        })
        .await
        .expect_err("no force");
    assert_eq!(
        code(&error),
        "runbook::connector::refused_action",
        "{error}"
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_key_is_rejected_at_login() {
    let server = serve(SimConfig::default()).await;
    let error = SmcConnector::for_sim_url_with(&server.url(), ApiKey::new("wrong-key"), settings())
        .await
        .expect_err("wrong key");
    assert_eq!(code(&error), "runbook::connector::wrong_key");
    // The same through the SMC login itself.
    let servers = vec![SmcServer {
        name: "mgt-1".into(),
        api: format!("{}/servers/mgt-1", server.url()),
    }];
    let smc = SmcConnector::new(servers, ApiKey::new("wrong-key"), settings()).expect("connector");
    let error = smc.snapshot().await.expect_err("wrong key");
    assert_eq!(code(&error), "runbook::connector::wrong_key");
    assert!(error.to_string().contains("/7.3/login"), "{error}");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_session_is_renewed_once() {
    let server = serve(SimConfig::default()).await;
    let smc = connect(&server).await;
    smc.perform(&diagnostic("mgt-1")).await.expect("first");
    assert!(server.shared().expire_sessions() > 0);
    smc.perform(&diagnostic("mgt-1"))
        .await
        .expect("renewed after expiry");
    // Actions too: the 401 means nothing was executed.
    server.shared().expire_sessions();
    smc.perform(&Operation::Exclude {
        server: "mgt-3".into(),
    })
    .await
    .expect("exclude after expiry");
    assert!(server
        .shared()
        .observed()
        .server("mgt-3")
        .is_some_and(|server| server.excluded));

    arm(&server, "/ha/diagnostic", HttpFaultKind::Unauthorized, 1).await;
    smc.perform(&diagnostic("mgt-1"))
        .await
        .expect("one 401 is renewed");
    arm(&server, "/ha/diagnostic", HttpFaultKind::Unauthorized, 2).await;
    let error = smc
        .perform(&diagnostic("mgt-1"))
        .await
        .expect_err("two 401 in a row");
    assert_eq!(code(&error), "runbook::connector::session_expired");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_connection_is_reported() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    drop(listener);
    let error = SmcConnector::for_sim_url_with(&url, ApiKey::new(KEY), settings())
        .await
        .expect_err("nothing listens");
    assert_eq!(code(&error), "runbook::connector::refused");
    let smc = SmcConnector::new(
        vec![SmcServer {
            name: "mgt-1".into(),
            api: url.clone(),
        }],
        ApiKey::new(KEY),
        settings(),
    )
    .expect("connector");
    let error = smc.snapshot().await.expect_err("nothing listens");
    assert_eq!(code(&error), "runbook::connector::refused");
    assert!(error.to_string().contains(&url), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_answer_times_out_and_a_stopped_server_is_silent() {
    let server = serve(SimConfig::default()).await;
    let smc = connect(&server).await;
    arm(
        &server,
        "/ha/diagnostic",
        HttpFaultKind::Slow { delay_ms: 3000 },
        1,
    )
    .await;
    let error = smc
        .perform(&diagnostic("mgt-1"))
        .await
        .expect_err("too slow");
    assert_eq!(code(&error), "runbook::connector::timeout");
    // Shorter than the request timeout: just slow.
    arm(
        &server,
        "/ha/diagnostic",
        HttpFaultKind::Slow { delay_ms: 100 },
        1,
    )
    .await;
    smc.perform(&diagnostic("mgt-1"))
        .await
        .expect("slow but in time");

    smc.perform(&Operation::StopServer {
        server: "mgt-2".into(),
    })
    .await
    .expect("stop");
    let error = smc
        .perform(&diagnostic("mgt-2"))
        .await
        .expect_err("stopped");
    assert_eq!(code(&error), "runbook::connector::refused");
    assert!(
        error.to_string().contains("closed without an answer"),
        "{error}"
    );
    server.shutdown().await;
}

/// `split_brain()` over HTTP answers what the in-process simulator knows:
/// nothing while one server is Active; after two declared Actives met, the
/// servers that were Active (read from `ha/diagnostic`, every server now
/// Standby); the same while every server is stopped (the last answer
/// stands); nothing once a forced activation has cleared it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn split_brain_is_read_from_the_diagnostic() {
    let server = serve(SimConfig::default()).await;
    let smc = connect(&server).await;
    let in_process = SimConnector::new(SimConfig::default());
    let pair = Some(vec!["mgt-1".to_string(), "mgt-2".to_string()]);
    let step = |operation: Operation| {
        let (smc, in_process) = (&smc, &in_process);
        async move {
            smc.perform(&operation).await.expect("over HTTP");
            in_process.perform(&operation).await.expect("in-process");
            smc.snapshot().await.expect("snapshot");
            let answered = smc.split_brain().await.expect("split brain");
            assert_eq!(
                answered,
                in_process.split_brain().await.expect("in-process"),
                "after {operation}"
            );
            answered
        }
    };
    smc.snapshot().await.expect("snapshot");
    assert_eq!(smc.split_brain().await.expect("read"), None);
    let stop = |name: &str| Operation::StopServer {
        server: name.into(),
    };
    assert_eq!(step(stop("mgt-1")).await, None);
    assert_eq!(
        step(Operation::ForceActivate {
            server: "mgt-2".into()
        })
        .await,
        None
    );
    assert_eq!(
        step(Operation::StartServer {
            server: "mgt-1".into()
        })
        .await,
        pair,
        "mgt-1 came back Active while mgt-2 was Active"
    );
    let snapshot = smc.snapshot().await.expect("snapshot");
    assert!(snapshot
        .servers
        .iter()
        .all(|server| server.mode == Mode::Standby));
    for name in ["mgt-1", "mgt-2", "mgt-3"] {
        step(stop(name)).await;
    }
    assert_eq!(
        smc.split_brain().await.expect("no server answers"),
        pair,
        "the last answer stands"
    );
    for name in ["mgt-1", "mgt-2", "mgt-3"] {
        step(Operation::StartServer {
            server: name.into(),
        })
        .await;
    }
    for name in ["mgt-1", "mgt-2"] {
        step(Operation::StopReplication {
            server: name.into(),
        })
        .await;
    }
    assert_eq!(
        step(Operation::ForceActivate {
            server: "mgt-1".into()
        })
        .await,
        None,
        "a forced activation clears it"
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_are_retried_and_actions_are_not() {
    let server = serve(SimConfig::default()).await;
    let smc = connect(&server).await;
    smc.snapshot().await.expect("log in first");
    for kind in [
        HttpFaultKind::ServerError,
        HttpFaultKind::MalformedJson,
        HttpFaultKind::CloseConnection,
    ] {
        arm(&server, "/ha/diagnostic", kind.clone(), 2).await;
        smc.perform(&diagnostic("mgt-1"))
            .await
            .unwrap_or_else(|error| panic!("{kind:?} retried: {error}"));
    }
    arm(&server, "/ha/diagnostic", HttpFaultKind::ServerError, 10).await;
    let error = smc
        .perform(&diagnostic("mgt-1"))
        .await
        .expect_err("5xx every time");
    assert_eq!(code(&error), "runbook::connector::server_error");
    assert!(error.to_string().contains("500"), "{error}");
    let error = {
        reqwest::Client::new()
            .delete(format!("{}/sim/control/http-fault", server.url()))
            .bearer_auth(KEY)
            .send()
            .await
            .expect("clear");
        arm(&server, "/ha/diagnostic", HttpFaultKind::MalformedJson, 10).await;
        smc.perform(&diagnostic("mgt-1"))
            .await
            .expect_err("malformed every time")
    };
    assert_eq!(code(&error), "runbook::connector::malformed_response");
    server.shared().clear_faults();

    arm(&server, "/ha/exclude", HttpFaultKind::ServerError, 1).await;
    let error = smc
        .perform(&Operation::Exclude {
            server: "mgt-2".into(),
        })
        .await
        .expect_err("an action is not retried");
    assert_eq!(code(&error), "runbook::connector::server_error");
    assert!(!server
        .shared()
        .observed()
        .server("mgt-2")
        .is_some_and(|server| server.excluded));
    arm(&server, "/ha/exclude", HttpFaultKind::CloseConnection, 1).await;
    let error = smc
        .perform(&Operation::Exclude {
            server: "mgt-2".into(),
        })
        .await
        .expect_err("an action is not retried");
    assert_eq!(code(&error), "runbook::connector::refused");
    arm(&server, "/ha/exclude", HttpFaultKind::MalformedJson, 1).await;
    let error = smc
        .perform(&Operation::Exclude {
            server: "mgt-2".into(),
        })
        .await
        .expect_err("malformed answer to an action");
    assert_eq!(code(&error), "runbook::connector::malformed_response");
    server.shutdown().await;
}

/// The operations of a downtime upgrade, with a few more, in order; each is
/// performed whatever happened to the previous one.
fn script() -> Vec<Operation> {
    let mut script = vec![
        diagnostic("mgt-1"),
        Operation::ReplicationStates {
            server: "mgt-1".into(),
        },
        Operation::Backup {
            server: "mgt-1".into(),
        },
        Operation::Exclude {
            server: "mgt-2".into(),
        },
        Operation::Exclude {
            server: "mgt-3".into(),
        },
        Operation::StopServer {
            server: "mgt-2".into(),
        },
        Operation::StopServer {
            server: "mgt-3".into(),
        },
        Operation::StopServer {
            server: "mgt-1".into(),
        },
        upgrade("mgt-1"),
        Operation::StartServer {
            server: "mgt-1".into(),
        },
        diagnostic("mgt-1"),
    ];
    for standby in ["mgt-2", "mgt-3"] {
        script.push(upgrade(standby));
        script.push(Operation::StartServer {
            server: standby.into(),
        });
        script.push(Operation::InitStandby {
            server: standby.into(),
        });
    }
    script.push(Operation::ReplicationStates {
        server: "mgt-1".into(),
    });
    script.push(Operation::Activate {
        server: "mgt-2".into(),
    });
    script
}

/// What a comparison looks at: the outcome's kind and, for errors, the code.
fn outcome(result: &Result<OperationOutput, ConnectorError>) -> String {
    match result {
        Ok(OperationOutput::Backup { .. }) => "backup".to_owned(),
        Ok(OperationOutput::Diagnostic { ok, .. }) => format!("diagnostic ok={ok}"),
        Ok(other) => format!("{other:?}"),
        Err(error) => code(error),
    }
}

async fn same_as_in_process(faults: Vec<Fault>) {
    let config = SimConfig {
        faults: faults.clone(),
        ..SimConfig::default()
    };
    let server = serve(config.clone()).await;
    let smc = connect(&server).await;
    let sim = SimConnector::new(config);
    assert_eq!(
        comparable(&smc.snapshot().await.expect("smc snapshot")),
        comparable(&sim.snapshot().await.expect("sim snapshot")),
        "{faults:?}: initial state"
    );
    for operation in script() {
        let over_http = smc.perform(&operation).await;
        let in_process = sim.perform(&operation).await;
        assert_eq!(
            outcome(&over_http),
            outcome(&in_process),
            "{faults:?}: {operation}: {over_http:?} / {in_process:?}"
        );
        let http_snapshot = smc.snapshot().await.expect("smc snapshot");
        let sim_snapshot = sim.snapshot().await.expect("sim snapshot");
        if http_snapshot.servers.iter().any(|server| server.running) {
            assert_eq!(
                comparable(&http_snapshot),
                comparable(&sim_snapshot),
                "{faults:?}: after {operation}"
            );
        } else {
            // Nothing answers: the API can only say that nothing runs.
            let running = |snapshot: &Snapshot| {
                snapshot
                    .servers
                    .iter()
                    .map(|server| server.running)
                    .collect::<Vec<_>>()
            };
            assert_eq!(
                running(&http_snapshot),
                running(&sim_snapshot),
                "{faults:?}: after {operation}"
            );
        }
    }
    if faults.contains(&Fault::ChangesOnActive) {
        // The simulator counts the changes; the published API does not say
        // them, so the connector does not claim to count them.
        assert!(!smc.counts_changes());
        assert!(sim.counts_changes());
        let changes = server
            .shared()
            .read(|simulator| simulator.changes_since_start("mgt-1"));
        assert!(changes > 0, "{changes}");
    }
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_fault_matches_the_in_process_simulator() {
    same_as_in_process(Vec::new()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_contract_fault_matches_the_in_process_simulator() {
    for name in EVERY_FAULT {
        same_as_in_process(vec![name.parse().expect("fault")]).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_key_appears_nowhere() {
    let server = serve(SimConfig::default()).await;
    let smc = connect(&server).await;
    let mut seen = format!("{smc:?} {}", smc.describe());
    smc.snapshot().await.expect("snapshot");
    seen.push_str(&format!("{smc:?}"));
    let wrong = "wrong-key-4711-unique";
    let errors = vec![
        SmcConnector::for_sim_url_with(&server.url(), ApiKey::new(wrong), settings())
            .await
            .expect_err("wrong"),
        SmcConnector::new(
            vec![SmcServer {
                name: "mgt-1".into(),
                api: format!("{}/servers/mgt-1", server.url()),
            }],
            ApiKey::new(wrong),
            settings(),
        )
        .expect("connector")
        .snapshot()
        .await
        .expect_err("wrong"),
        smc.perform(&Operation::Exclude {
            server: "mgt-1".into(),
        })
        .await
        .expect_err("refused"),
    ];
    for error in errors {
        let report = miette::Report::new(error.clone());
        seen.push_str(&format!("{error} {error:?} {report:?}"));
    }
    assert!(!seen.contains(KEY), "{seen}");
    assert!(!seen.contains(wrong), "{seen}");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_error_answer_has_the_product_error_body() {
    let server = serve(SimConfig::default()).await;
    let url = server.url();
    let client = reqwest::Client::new();
    let login = client
        .post(format!("{url}/7.3/login"))
        .json(&serde_json::json!({ "authenticationkey": KEY }))
        .send()
        .await
        .expect("login");
    let cookie = login
        .headers()
        .get("set-cookie")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .expect("cookie")
        .to_owned();
    let requests = vec![
        (client.get(format!("{url}/7.3/login")), 405),
        (
            client
                .get(format!("{url}/7.3/ha/operations/abc"))
                .header("cookie", &cookie),
            404,
        ),
        (client.get(format!("{url}/7.3/ha/diagnostic")), 401),
        (
            client
                .get(format!("{url}/6.0/api"))
                .header("cookie", &cookie),
            404,
        ),
        (
            client
                .post(format!("{url}/7.3/ha/exclude"))
                .header("cookie", &cookie)
                .header("content-type", "application/json"),
            400,
        ),
        (
            client
                .post(format!("{url}/7.3/ha/exclude?server_name=mgt-2"))
                .header("cookie", &cookie),
            415,
        ),
        (
            client
                .post(format!(
                    "{url}/7.3/ha/exclude?server_name=mgt-2&force=maybe"
                ))
                .header("cookie", &cookie)
                .header("content-type", "application/json"),
            400,
        ),
        (
            client
                .post(format!("{url}/7.3/ha/reboot?server_name=mgt-2"))
                .header("cookie", &cookie)
                .header("content-type", "application/json"),
            404,
        ),
        (
            client.post(format!("{url}/7.3/login")).body("not json"),
            400,
        ),
        (client.get(format!("{url}/no/such/route")), 404),
        (client.get(format!("{url}/servers/mgt-9/api")), 404),
        (client.get(format!("{url}/sim/cluster")), 401),
        (
            client
                .get(format!("{url}/sim/cluster"))
                .bearer_auth("wrong"),
            401,
        ),
        (
            client
                .post(format!("{url}/sim/control/http-fault"))
                .bearer_auth(KEY)
                .body("{"),
            400,
        ),
        (
            client
                .post(format!("{url}/sim/console/mgt-2/reinstall"))
                .bearer_auth(KEY),
            404,
        ),
        (
            client
                .post(format!("{url}/sim/console/mgt-2/upgrade"))
                .bearer_auth(KEY),
            400,
        ),
    ];
    for (request, status) in requests {
        let request = request.build().expect("request");
        let described = format!("{} {}", request.method(), request.url());
        let response = client.execute(request).await.expect("send");
        assert_eq!(response.status().as_u16(), status, "{described}");
        let body: serde_json::Value = response
            .json()
            .await
            .unwrap_or_else(|error| panic!("{described}: {error}"));
        // The product's error body: `status` is 0, `details` optional.
        assert_eq!(body["status"], 0, "{described}: {body}");
        assert!(
            body["message"].is_string()
                && (body.get("details").is_none() || body["details"].is_array()),
            "{described}: {body}"
        );
    }
    server.shutdown().await;
}
