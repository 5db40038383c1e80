//! Contract tests that cannot drift: what a real Management Server answers
//! (the fixtures of `tests/fixtures/smc/`, from the published pages and the
//! answers captured on real servers) is served by a plain HTTP server that
//! knows nothing of this project; the `smc` connector must derive the
//! expected cluster from each situation and meet each published refusal.
//! The same fixtures then validate `runbook sim serve`: every answer it
//! gives on the same entry point has the same fields with the same JSON
//! types, so the connector and the simulator cannot agree on a field a real
//! server does not send.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use runbook::cluster::{Operation, SimConfig, Snapshot, Version};
use runbook::connect::smc::{SmcConnector, SmcServer, SmcSettings};
use runbook::connect::{ApiKey, Connector};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::support;
use crate::support::code;

const KEY: &str = "contract-test-key-0123456789";

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/smc")
}

#[derive(Debug, Deserialize)]
struct Situation {
    servers: Vec<FixtureServer>,
    expected: Snapshot,
    #[serde(default)]
    actions: Vec<FixtureAction>,
}

#[derive(Debug, Deserialize)]
struct FixtureServer {
    name: String,
    answers: bool,
}

#[derive(Debug, Deserialize)]
struct FixtureAction {
    operation: Operation,
    error: String,
    message_contains: String,
}

#[derive(Debug, Clone, Deserialize)]
struct Answer {
    status: u16,
    #[serde(default)]
    body: Option<Value>,
    #[serde(default)]
    session: bool,
}

/// `"METHOD /path"` → answer, per server name.
type Answers = BTreeMap<String, BTreeMap<String, Answer>>;

fn situations() -> Vec<(String, Situation, Answers)> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(fixtures())
        .expect("tests/fixtures/smc")
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.join("situation.json").exists())
        .collect();
    found.sort();
    assert!(found.len() >= 5, "the contract fixtures: {found:?}");
    found
        .into_iter()
        .map(|dir| {
            let name = dir.file_name().unwrap().to_string_lossy().into_owned();
            let situation: Situation = read_json(&dir.join("situation.json"));
            let mut answers = Answers::new();
            for server in situation.servers.iter().filter(|server| server.answers) {
                answers.insert(
                    server.name.clone(),
                    read_json(&dir.join(&server.name).join("answers.json")),
                );
            }
            (name, situation, answers)
        })
        .collect()
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> T {
    let text = std::fs::read_to_string(path).unwrap_or_else(|error| panic!("{path:?}: {error}"));
    serde_json::from_str(&text).unwrap_or_else(|error| panic!("{path:?}: {error}"))
}

/// `{root}` in every string of `value` replaced by `root`.
fn rooted(value: &Value, root: &str) -> Value {
    match value {
        Value::String(text) => Value::String(text.replace("{root}", root)),
        Value::Array(items) => Value::Array(items.iter().map(|item| rooted(item, root)).collect()),
        Value::Object(fields) => Value::Object(
            fields
                .iter()
                .map(|(key, field)| (key.clone(), rooted(field, root)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// A plain HTTP server that answers a situation's recorded answers under
/// `/servers/NAME/...`; it knows nothing of the project but the fixture
/// format. A session cookie is needed for everything but `GET /api` and
/// the login, as on a real server.
struct Served {
    addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Served {
    async fn start(answers: Answers) -> Served {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let app = axum::Router::new()
            .fallback(answer)
            .with_state(Arc::new((answers, addr)));
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Served { addr, task }
    }

    fn root(&self, server: &str) -> String {
        format!("http://{}/servers/{server}", self.addr)
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn answer(State(state): State<Arc<(Answers, SocketAddr)>>, request: Request) -> Response {
    let (answers, addr) = &*state;
    let path = request.uri().path().to_owned();
    let not_found = || {
        (
            StatusCode::NOT_FOUND,
            axum::Json(json!({ "message": "Resource not found", "status": 0 })),
        )
            .into_response()
    };
    let Some((server, inner)) = path
        .strip_prefix("/servers/")
        .and_then(|rest| rest.split_once('/'))
    else {
        return not_found();
    };
    let Some(server_answers) = answers.get(server) else {
        return not_found();
    };
    let key = format!("{} /{inner}", request.method());
    let Some(found) = server_answers.get(&key) else {
        return not_found();
    };
    let cookie = format!("JSESSIONID=fixture-{server}");
    let has_session = request
        .headers()
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .any(|value| value.split(';').any(|pair| pair.trim() == cookie));
    let open_route = inner == "api" || inner.ends_with("/login");
    if !open_route && !has_session {
        return (
            StatusCode::UNAUTHORIZED,
            axum::Json(json!({ "message": "Not logged in", "status": 0 })),
        )
            .into_response();
    }
    let root = format!("http://{addr}/servers/{server}");
    let mut response =
        Response::builder().status(StatusCode::from_u16(found.status).expect("status"));
    if found.session {
        response = response.header(
            header::SET_COOKIE,
            format!("{cookie}; Path=/servers/{server}; HttpOnly"),
        );
    }
    match &found.body {
        Some(body) => response
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(rooted(body, &root).to_string())),
        None => response.body(Body::empty()),
    }
    .expect("response")
}

fn settings() -> SmcSettings {
    SmcSettings {
        connect_timeout: Duration::from_secs(2),
        request_timeout: Duration::from_secs(2),
        read_retries: 0,
        retry_backoff: Duration::from_millis(10),
        poll_interval: Duration::from_millis(10),
        operation_timeout: Duration::from_secs(1),
        ..SmcSettings::default()
    }
}

/// A loopback address where nothing listens: a stopped server refuses.
async fn refused_root() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    drop(listener);
    format!("http://{addr}")
}

async fn connector(situation: &Situation, served: &Served) -> SmcConnector {
    let mut servers = Vec::new();
    for server in &situation.servers {
        let api = if server.answers {
            served.root(&server.name)
        } else {
            refused_root().await
        };
        servers.push(SmcServer {
            name: server.name.clone(),
            api,
        });
    }
    SmcConnector::new(servers, ApiKey::new(KEY), settings()).expect("connector")
}

/// From each situation's published answers the connector derives the
/// expected cluster, and meets each published refusal as `refused_action`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_connector_derives_each_published_situation() {
    for (name, situation, answers) in situations() {
        let served = Served::start(answers).await;
        let smc = connector(&situation, &served).await;
        let snapshot = smc
            .snapshot()
            .await
            .unwrap_or_else(|error| panic!("{name}: {error:?}"));
        assert_eq!(
            serde_json::to_value(&snapshot).unwrap(),
            serde_json::to_value(&situation.expected).unwrap(),
            "{name}: derived cluster"
        );
        for action in &situation.actions {
            let error = smc
                .perform(&action.operation)
                .await
                .expect_err("a published refusal");
            assert_eq!(code(&error), action.error, "{name}: {}", action.operation);
            assert!(
                format!("{error}").contains(&action.message_contains),
                "{name}: {}: {error}",
                action.operation
            );
        }
        smc.close().await;
    }
}

/// The JSON type of a value, and for objects the shape of every field, for
/// arrays the shape of their first element.
fn shape(value: &Value) -> Value {
    match value {
        Value::Null => json!("null"),
        Value::Bool(_) => json!("boolean"),
        Value::Number(_) => json!("number"),
        Value::String(_) => json!("string"),
        Value::Array(items) => json!([items.first().map_or(json!("empty"), shape)]),
        Value::Object(fields) => Value::Object(
            fields
                .iter()
                .map(|(key, field)| (key.clone(), shape(field)))
                .collect(),
        ),
    }
}

/// Where two shapes differ (an empty list matches a list of anything).
fn shape_differences(path: &str, published: &Value, simulated: &Value, found: &mut Vec<String>) {
    match (published, simulated) {
        (Value::Object(left), Value::Object(right)) => {
            for (key, field) in left {
                match right.get(key) {
                    Some(other) => shape_differences(&format!("{path}.{key}"), field, other, found),
                    None => found.push(format!("{path}.{key}: missing from sim serve")),
                }
            }
            for key in right.keys().filter(|key| !left.contains_key(*key)) {
                found.push(format!(
                    "{path}.{key}: sent by sim serve, not by a real server"
                ));
            }
        }
        (Value::Array(left), Value::Array(right)) => {
            if let (Some(left), Some(right)) = (left.first(), right.first()) {
                if left != &json!("empty") && right != &json!("empty") {
                    shape_differences(&format!("{path}[]"), left, right, found);
                }
            }
        }
        (left, right) if left != right => {
            found.push(format!("{path}: {left} published, {right} from sim serve"));
        }
        _ => {}
    }
}

/// A session on one server of a `sim serve`, for raw reads.
struct SimSession {
    client: reqwest::Client,
    root: String,
    cookie: String,
}

impl SimSession {
    async fn open(url: &str, server: &str) -> SimSession {
        let client = reqwest::Client::new();
        let root = format!("{url}/servers/{server}");
        let login = client
            .post(format!("{root}/7.3/login"))
            .json(&json!({ "authenticationkey": KEY, "domain": "Shared Domain" }))
            .send()
            .await
            .expect("login");
        assert_eq!(login.status(), 200);
        let cookie = login
            .headers()
            .get(header::SET_COOKIE)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.split(';').next())
            .expect("cookie")
            .to_owned();
        SimSession {
            client,
            root,
            cookie,
        }
    }

    async fn send(&self, method: &str, path: &str) -> (u16, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let response = self
            .client
            .request(method, format!("{}{path}", self.root))
            .header(header::COOKIE, &self.cookie)
            .header(header::CONTENT_TYPE, "application/json")
            .send()
            .await
            .expect("send");
        let status = response.status().as_u16();
        let text = response.text().await.expect("body");
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }
}

/// The path a fixture answer has on the simulator: the API version of the
/// simulated 7.3 server, and its element keys (10, 11, 12) for the
/// fixture's element of the same role.
fn simulated_path(path: &str, element_keys: &BTreeMap<String, String>) -> String {
    let mut parts: Vec<String> = path.split('/').map(str::to_owned).collect();
    if parts.len() > 1 && parts[1].contains('.') {
        parts[1] = "7.3".to_owned();
    }
    if let Some(key) = parts.last_mut() {
        if let Some(simulated) = element_keys.get(key.as_str()) {
            key.clone_from(simulated);
        }
    }
    parts.join("/")
}

/// `sim serve` answers every published entry point with the same fields
/// and JSON types as the fixtures, in the situations it can be put in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sim_serve_answers_the_published_shapes() {
    let all = situations();
    let by_name = |wanted: &str| {
        all.iter()
            .find(|(name, ..)| name == wanted)
            .unwrap_or_else(|| panic!("fixture {wanted}"))
    };
    let mut differences = Vec::new();
    for (fixture, initial, setup) in [
        ("healthy-3-servers", "7.3.4", ""),
        ("old-7.3.2-server", "7.3.2", ""),
        ("no-active-after-forced-set-standby", "7.3.4", "set-standby"),
        ("standby-stopped", "7.3.4", "stop-mgt-3"),
    ] {
        let (_, situation, answers) = by_name(fixture);
        let config = SimConfig {
            initial_version: initial.parse::<Version>().unwrap(),
            ..SimConfig::default()
        };
        let server = support::serve_sim(config, KEY, 600.0).await;
        // The fixture's servers in order play mgt-1, mgt-2, mgt-3; the
        // fixture's element keys map to the simulator's.
        let mut element_keys = BTreeMap::new();
        let mut roles = Vec::new();
        for (index, fixture_server) in situation.servers.iter().enumerate() {
            let simulated = format!("mgt-{}", index + 1);
            roles.push((fixture_server.name.clone(), simulated));
        }
        for server_answers in answers.values() {
            for (key, answer) in server_answers {
                if let Some(element) = key
                    .strip_prefix("GET ")
                    .filter(|path| path.contains("/elements/mgt_server/"))
                {
                    let element_key = element.rsplit('/').next().unwrap_or_default().to_owned();
                    let name = answer
                        .body
                        .as_ref()
                        .and_then(|body| body["name"].as_str())
                        .unwrap_or_default();
                    if let Some(position) = roles
                        .iter()
                        .position(|(fixture_name, _)| fixture_name == name)
                    {
                        element_keys.insert(element_key, (10 + position).to_string());
                    }
                }
            }
        }
        match setup {
            "set-standby" => {
                let mgt1 = SimSession::open(&server.url(), "mgt-1").await;
                let (status, body) = mgt1.send("POST", "/7.3/ha/set_standby?force=true").await;
                assert_eq!(status, 200, "{body}");
            }
            "stop-mgt-3" => {
                let stopped = reqwest::Client::new()
                    .post(format!("{}/sim/console/mgt-3/stop", server.url()))
                    .bearer_auth(KEY)
                    .send()
                    .await
                    .expect("stop");
                assert!(stopped.status().is_success());
            }
            _ => {}
        }
        for (fixture_name, simulated) in &roles {
            let Some(server_answers) = answers.get(fixture_name) else {
                continue;
            };
            let session = SimSession::open(&server.url(), simulated).await;
            for (key, published) in server_answers {
                let (method, path) = key.split_once(' ').expect("METHOD /path");
                if method != "GET" {
                    continue;
                }
                let (status, body) = session
                    .send(method, &simulated_path(path, &element_keys))
                    .await;
                let context = format!("{fixture}: {simulated} ({fixture_name}) {key}");
                if status != published.status {
                    differences.push(format!(
                        "{context}: status {status}, published {}",
                        published.status
                    ));
                    continue;
                }
                if let Some(published_body) = &published.body {
                    shape_differences(
                        &context,
                        &shape(published_body),
                        &shape(&body),
                        &mut differences,
                    );
                }
            }
        }
        server.shutdown().await;
    }
    assert!(differences.is_empty(), "{}", differences.join("\n"));
}

/// A `sim serve` whose servers run `version`, and a connector to it.
async fn sim_at(version: &str) -> (runbook::connect::sim_server::RunningSimServer, SmcConnector) {
    let config = SimConfig {
        initial_version: version.parse().expect("version"),
        ..SimConfig::default()
    };
    let server = support::serve_sim(config, KEY, 600.0).await;
    let smc = SmcConnector::for_sim_url_with(&server.url(), ApiKey::new(KEY), settings())
        .await
        .expect("connector");
    (server, smc)
}

/// A server before SMC 7.3 is refused when the connector logs in: its
/// version is read first, and nothing is sent to it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_before_7_3_is_refused_with_its_version() {
    let (server, smc) = sim_at("7.2.0").await;
    let error = smc.snapshot().await.expect_err("7.2.0 is refused");
    assert_eq!(code(&error), "runbook::connector::unsupported_version");
    assert!(error.to_string().contains("runs SMC 7.2.0"), "{error}");
    server.shutdown().await;
}

/// SMC-65140: on 7.3.0 to 7.3.3 the API cannot exclude a stopped Standby.
/// The connector says so before sending anything, with the two ways out;
/// the Standby started, the exclusion goes through.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn excluding_a_stopped_standby_on_7_3_2_is_refused_before_it_is_sent() {
    let (server, smc) = sim_at("7.3.2").await;
    let stop = Operation::StopServer {
        server: "mgt-3".into(),
    };
    smc.perform(&stop).await.expect("stop mgt-3");
    smc.snapshot().await.expect("snapshot");
    let exclude = Operation::Exclude {
        server: "mgt-3".into(),
    };
    let error = smc.perform(&exclude).await.expect_err("SMC-65140");
    assert_eq!(code(&error), "runbook::connector::known_issue");
    let help = miette::Diagnostic::help(&error)
        .map(|help| help.to_string())
        .unwrap_or_default();
    assert!(help.contains("start mgt-3 first"), "{help}");
    assert!(
        help.contains("sgReplicationAdmin -exclude standby-server-key=12"),
        "{help}"
    );
    let excluded = |snapshot: Snapshot| snapshot.server("mgt-3").unwrap().excluded;
    assert!(!excluded(server.shared().snapshot()), "nothing was sent");
    smc.perform(&Operation::StartServer {
        server: "mgt-3".into(),
    })
    .await
    .expect("start mgt-3");
    smc.snapshot().await.expect("snapshot");
    smc.perform(&exclude)
        .await
        .expect("exclusion of a running Standby");
    assert!(excluded(server.shared().snapshot()));
    server.shutdown().await;
}

/// The healthy situation's answers with one changed by `change`.
fn healthy_with(change: impl FnOnce(&mut Answers)) -> (Situation, Answers) {
    let (_, situation, mut answers) = situations()
        .into_iter()
        .find(|(name, ..)| name == "healthy-3-servers")
        .expect("healthy fixture");
    change(&mut answers);
    (situation, answers)
}

/// A login that opens no session (an API set to track SSL sessions) is
/// said as such, with what to change.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_without_a_session_cookie_is_said_clearly() {
    let (situation, answers) = healthy_with(|answers| {
        for server in answers.values_mut() {
            for (key, answer) in server.iter_mut() {
                if key.ends_with("/login") {
                    answer.session = false;
                }
            }
        }
    });
    let served = Served::start(answers).await;
    let smc = connector(&situation, &served).await;
    let error = smc.snapshot().await.expect_err("no session");
    assert_eq!(code(&error), "runbook::connector::no_session_cookie");
    let help = miette::Diagnostic::help(&error)
        .map(|help| help.to_string())
        .unwrap_or_default();
    assert!(help.contains("cookie"), "{help}");
}

/// An answer of an unexpected shape names the entry point, the field and
/// what was expected — never a panic.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unexpected_shape_names_the_entry_point_and_the_field() {
    let (situation, answers) = healthy_with(|answers| {
        let server = answers.get_mut("DK_MGT_2").expect("DK_MGT_2");
        let answer = server
            .get_mut("GET /7.3/ha/database_replication_diagnostic")
            .expect("replication diagnostic");
        answer.body.as_mut().expect("body")["state"] = json!(42);
    });
    let served = Served::start(answers).await;
    let smc = connector(&situation, &served).await;
    let error = smc.snapshot().await.expect_err("malformed");
    assert_eq!(code(&error), "runbook::connector::malformed_response");
    let text = error.to_string();
    assert!(text.contains("database_replication_diagnostic"), "{text}");
    assert!(
        text.contains(
            "field `state`: expected a replication state like \"[ACT_REP] ...\", found a number"
        ),
        "{text}"
    );
}

/// `probe --record` against `sim serve`: the recording (no key, no
/// cookie, no address) is a fixture from which the connector derives what
/// `probe` printed, and every session was logged out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn probe_records_a_fixture_the_connector_derives_the_same_cluster_from() {
    let server = support::serve_sim(SimConfig::default(), KEY, 600.0).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let record = dir.path().join("recorded");
    let url = server.url();
    let record_arg = record.clone();
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_runbook"))
            .args(["probe", "--target", &url, "--record"])
            .arg(&record_arg)
            .env("RUNBOOK_API_KEY", KEY)
            .env("NO_COLOR", "1")
            .output()
            .expect("probe runs")
    })
    .await
    .expect("join");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stdout}{stderr}");
    assert!(
        stdout.contains("mgt-1: running, active, 7.3.4, ACT_REP, not excluded"),
        "{stdout}"
    );
    assert!(
        stdout.contains("mode: active (its own /ha names it active_server)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("Administrator changes: not counted"),
        "{stdout}"
    );
    assert_eq!(server.shared().open_sessions(), 0, "probe logs out");
    let mut recorded_text = String::new();
    for entry in walk(&record) {
        recorded_text.push_str(&std::fs::read_to_string(entry).expect("read"));
    }
    assert!(!recorded_text.contains(KEY), "the key is never recorded");
    assert!(
        !recorded_text.contains("127.0.0.1"),
        "addresses are redacted"
    );
    assert!(
        !recorded_text.contains("JSESSIONID"),
        "cookies are never recorded"
    );
    let situation: Situation = read_json(&record.join("situation.json"));
    let mut answers = Answers::new();
    for fixture_server in &situation.servers {
        answers.insert(
            fixture_server.name.clone(),
            read_json(&record.join(&fixture_server.name).join("answers.json")),
        );
    }
    let served = Served::start(answers).await;
    let smc = connector(&situation, &served).await;
    let derived = smc.snapshot().await.expect("derived from the recording");
    assert_eq!(derived, situation.expected);
    assert_eq!(derived, server.shared().observed());
    server.shutdown().await;
}

/// `plan` against `sim serve` reads the cluster and logs out of every session.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_logs_out_of_every_session() {
    let server = support::serve_sim(SimConfig::default(), KEY, 600.0).await;
    let url = server.url();
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_runbook"))
            .args(["plan", "upgrade-with-downtime", "--target", &url])
            .env("RUNBOOK_API_KEY", KEY)
            .output()
            .expect("plan runs")
    })
    .await
    .expect("join");
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(server.shared().open_sessions(), 0);
    server.shutdown().await;
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir)
        .expect("read dir")
        .filter_map(Result::ok)
    {
        let path = entry.path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}

/// `plan` with an inventory whose servers answer only the published shapes
/// (the healthy fixture): it reads the cluster right and plans the upgrade.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_reads_an_inventory_of_servers_answering_published_shapes() {
    let (situation, answers) = healthy_with(|_| {});
    let served = Served::start(answers).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let mut inventory =
        String::from("[api]\napi_key_env = \"RUNBOOK_CONTRACT_KEY\"\nrequest_timeout = \"5s\"\n");
    for server in &situation.servers {
        inventory.push_str(&format!(
            "\n[[servers]]\nname = \"{0}\"\nhost = \"{0}.example.net\"\napi = \"{1}\"\n",
            server.name,
            served.root(&server.name)
        ));
    }
    let path = dir.path().join("inventory.toml");
    std::fs::write(&path, inventory).expect("write inventory");
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_runbook"))
            .args([
                "plan",
                "upgrade-with-downtime",
                "--format",
                "json",
                "--target",
            ])
            .arg(&path)
            .env("RUNBOOK_CONTRACT_KEY", KEY)
            .output()
            .expect("plan runs")
    })
    .await
    .expect("join");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    let plan: Value = serde_json::from_slice(&output.stdout).expect("plan JSON");
    assert_eq!(
        plan["cluster"],
        serde_json::to_value(&situation.expected).unwrap()
    );
    assert!(!stderr.contains(KEY) && !String::from_utf8_lossy(&output.stdout).contains(KEY));
}

/// On a version with SMC-65140, `plan` says so at every exclusion, before
/// any step runs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_warns_of_smc_65140_before_the_step() {
    let (server, _) = sim_at("7.3.2").await;
    let url = server.url();
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_runbook"))
            .args(["plan", "upgrade-no-downtime", "--target", &url])
            .env("RUNBOOK_API_KEY", KEY)
            .env("NO_COLOR", "1")
            .output()
            .expect("plan runs")
    })
    .await
    .expect("join");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("known issue SMC-65140"), "{stdout}");
    server.shutdown().await;
}

/// An HA action names its target by exactly one of `server_name`,
/// `server_ip` or a payload with the element's href; `force` is accepted as
/// the official client writes it (`False`); `set_active` with no target on
/// a Standby activates that Standby.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sim_serve_takes_targets_as_the_product_does() {
    let server = support::serve_sim(SimConfig::default(), KEY, 600.0).await;
    let active = SimSession::open(&server.url(), "mgt-1").await;
    let (status, body) = active
        .send("POST", "/7.3/ha/exclude?server_ip=192.0.2.12&force=False")
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["value"],
        "Exclusion from replication of Management Server mgt-3@192.0.2.12 requested."
    );
    let (status, body) = active
        .send(
            "POST",
            "/7.3/ha/exclude?server_name=mgt-2&server_ip=192.0.2.12",
        )
        .await;
    assert_eq!(status, 400, "one target only: {body}");
    let (status, body) = active.send("POST", "/7.3/ha/full_replication").await;
    assert_eq!(status, 400);
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .starts_with("Missing management server parameter"),
        "{body}"
    );
    let payload =
        json!({ "href": format!("{}/servers/mgt-1/7.3/elements/mgt_server/12", server.url()) });
    let response = active
        .client
        .post(format!("{}/7.3/ha/full_replication", active.root))
        .header(header::COOKIE, &active.cookie)
        .header(header::CONTENT_TYPE, "application/json")
        .body(payload.to_string())
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.expect("json");
    assert_eq!(
        body["value"],
        "Replication of Management Server mgt-3@192.0.2.12 requested."
    );
    server.shared().advance(Duration::from_secs(3600));
    let standby = SimSession::open(&server.url(), "mgt-2").await;
    let (status, body) = standby.send("POST", "/7.3/ha/set_active?force=False").await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body["value"]
            .as_str()
            .unwrap()
            .starts_with("Switch Active Server to mgt-2"),
        "{body}"
    );
    server.shared().advance(Duration::from_secs(3600));
    let snapshot = server.shared().snapshot();
    assert_eq!(
        snapshot
            .actives()
            .map(|server| server.name.as_str())
            .collect::<Vec<_>>(),
        ["mgt-2"]
    );
    server.shutdown().await;
}

/// A password written in a `--target` URL is never printed nor journaled,
/// whatever fails (the key comes from the environment, never the URL).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_password_in_a_target_url_is_never_printed() {
    let server = support::serve_sim(SimConfig::default(), KEY, 600.0).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let journal = dir.path().join("run.jsonl");
    let with_password = server
        .url()
        .replace("http://", "http://admin:hunter2-secret@");
    let closed = format!(
        "http://admin:hunter2-secret@{}",
        refused_root().await.trim_start_matches("http://")
    );
    for (target, command) in [
        (with_password.clone(), "plan"),
        (closed.clone(), "plan"),
        (with_password, "run"),
        (closed, "probe"),
    ] {
        let journal = journal.clone();
        let output = tokio::task::spawn_blocking(move || {
            let mut runbook = std::process::Command::new(env!("CARGO_BIN_EXE_runbook"));
            match command {
                "probe" => runbook.args(["probe", "--target", &target]),
                "run" => runbook
                    .args([
                        "run",
                        "upgrade-preparation",
                        "--yes",
                        "--format",
                        "json",
                        "--target",
                        &target,
                        "--journal",
                    ])
                    .arg(&journal),
                _ => runbook.args(["plan", "upgrade-with-downtime", "--target", &target]),
            };
            runbook.env("RUNBOOK_API_KEY", KEY).output().expect("runs")
        })
        .await
        .expect("join");
        let printed = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(!printed.contains("hunter2"), "{command}: {printed}");
    }
    let journaled = std::fs::read_to_string(&journal).expect("journal");
    assert!(!journaled.contains("hunter2"), "{journaled}");
    server.shutdown().await;
}
