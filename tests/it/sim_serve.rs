//! The built binary: `runbook sim serve` started as a process, answered by
//! plain HTTP requests, persisting its cluster across a restart, shutting
//! down gracefully on SIGTERM and Ctrl-C (SIGINT), never printing a given key.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, ChildStdout, Command, Stdio};

use serde_json::Value;

const KEY: &str = "process-test-key-90210";

struct Served {
    child: Child,
    stdout: BufReader<ChildStdout>,
    printed: String,
    url: String,
}

/// `runbook sim serve` on a free loopback port, started and read until it
/// listens.
fn start(key: Option<&str>, args: &[&str]) -> Served {
    start_on("127.0.0.1:0", key, args)
}

/// [`start`] listening on `addr`.
// The child is handed to `Served`, whose `stop` waits for it.
#[allow(clippy::zombie_processes)]
fn start_on(addr: &str, key: Option<&str>, args: &[&str]) -> Served {
    let mut command = Command::new(assert_cmd::cargo::cargo_bin("runbook"));
    command
        .args(["sim", "serve", "--addr", addr, "--speed", "6000"])
        .args(args)
        .env_remove("RUNBOOK_SIM_API_KEY")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(key) = key {
        command.env("RUNBOOK_SIM_API_KEY", key);
    }
    let mut child = command.spawn().expect("spawn runbook sim serve");
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let mut printed = String::new();
    loop {
        let mut line = String::new();
        let read = stdout.read_line(&mut line).unwrap_or(0);
        if read == 0 {
            let _ = child.kill();
            let _ = child.wait();
            panic!("sim serve ended before listening: {printed}");
        }
        printed.push_str(&line);
        if let Some(url) = line.trim().strip_prefix("listening on ") {
            let url = url.to_owned();
            return Served {
                child,
                stdout,
                printed,
                url,
            };
        }
    }
}

impl Served {
    /// Sends `signal` and returns (exit success, everything printed).
    fn stop(mut self, signal: &str) -> (bool, String) {
        let status = Command::new("kill")
            .args([signal, &self.child.id().to_string()])
            .status()
            .expect("kill");
        assert!(status.success());
        let exit = self.child.wait().expect("wait");
        let mut rest = String::new();
        self.stdout
            .read_to_string(&mut rest)
            .expect("rest of stdout");
        let mut stderr = String::new();
        if let Some(mut pipe) = self.child.stderr.take() {
            pipe.read_to_string(&mut stderr).expect("stderr");
        }
        (exit.success(), format!("{}{rest}{stderr}", self.printed))
    }
}

async fn login(client: &reqwest::Client, url: &str, key: &str) -> reqwest::Response {
    client
        .post(format!("{url}/7.3/login"))
        .json(&serde_json::json!({ "authenticationkey": key }))
        .send()
        .await
        .expect("login")
}

fn cookie(response: &reqwest::Response) -> String {
    response
        .headers()
        .get("set-cookie")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .expect("JSESSIONID cookie")
        .to_owned()
}

async fn cluster(client: &reqwest::Client, url: &str) -> Value {
    client
        .get(format!("{url}/sim/cluster"))
        .bearer_auth(KEY)
        .send()
        .await
        .expect("cluster")
        .json()
        .await
        .expect("json")
}

#[tokio::test]
async fn answers_plain_http_and_keeps_its_cluster_across_a_restart() {
    let folder = tempfile::tempdir().expect("tempdir");
    let state = folder.path().join("cluster.json");
    let state_arg = state.to_str().expect("utf-8 path");
    let served = start(Some(KEY), &["--state", state_arg]);
    let url = served.url.clone();
    let client = reqwest::Client::new();

    let versions: Value = client
        .get(format!("{url}/api"))
        .send()
        .await
        .expect("api")
        .json()
        .await
        .expect("json");
    // Each SMC version offers three API versions; 7.3.4 offers 7.1 to 7.3.
    let offered: Vec<&str> = versions["version"]
        .as_array()
        .expect("version list")
        .iter()
        .filter_map(|entry| entry["rel"].as_str())
        .collect();
    assert_eq!(offered, ["7.1", "7.2", "7.3"]);

    let unauthorized = client
        .get(format!("{url}/7.3/ha"))
        .send()
        .await
        .expect("ha");
    assert_eq!(unauthorized.status(), 401);
    let body: Value = unauthorized.json().await.expect("error body");
    assert_eq!(body["status"], 0, "the product's error body");
    assert!(body["message"].is_string(), "{body}");

    assert_eq!(login(&client, &url, "not-the-key").await.status(), 401);
    let logged_in = login(&client, &url, KEY).await;
    assert_eq!(logged_in.status(), 200);
    let session = cookie(&logged_in);

    let entry_points: Value = client
        .get(format!("{url}/7.3/api"))
        .header("cookie", &session)
        .send()
        .await
        .expect("entry points")
        .json()
        .await
        .expect("json");
    let rels: Vec<&str> = entry_points["entry_point"]
        .as_array()
        .expect("entry_point list")
        .iter()
        .filter_map(|entry| entry["rel"].as_str())
        .collect();
    assert!(rels.contains(&"ha") && rels.contains(&"logout"), "{rels:?}");

    let refused = client
        .post(format!("{url}/7.3/ha/exclude?server_name=mgt-1"))
        .header("cookie", &session)
        .header("content-type", "application/json")
        .send()
        .await
        .expect("exclude the active");
    assert_eq!(refused.status(), 400);
    let body: Value = refused.json().await.expect("json");
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|message| message.contains("cannot be excluded")),
        "{body}"
    );

    let excluded = client
        .post(format!("{url}/7.3/ha/exclude?server_name=mgt-3"))
        .header("cookie", &session)
        .header("content-type", "application/json")
        .send()
        .await
        .expect("exclude");
    assert_eq!(excluded.status(), 200);
    let logout = client
        .put(format!("{url}/7.3/logout"))
        .header("cookie", &session)
        .send()
        .await
        .expect("logout");
    assert_eq!(logout.status(), 204);
    assert_eq!(cluster(&client, &url).await["servers"][2]["excluded"], true);

    let (clean, printed) = served.stop("-TERM");
    assert!(clean, "{printed}");
    assert!(printed.contains("stopped"), "{printed}");
    assert!(
        !printed.contains(KEY),
        "the given key was printed: {printed}"
    );
    assert!(state.exists());
    assert!(!Path::new(&format!("{state_arg}.tmp")).exists());

    let again = start(Some(KEY), &["--state", state_arg]);
    assert!(
        again.printed.contains("resumed the cluster"),
        "{}",
        again.printed
    );
    let url = again.url.clone();
    let resumed = cluster(&client, &url).await;
    assert_eq!(resumed["servers"][2]["name"], "mgt-3");
    assert_eq!(resumed["servers"][2]["excluded"], true);
    let (clean, printed) = again.stop("-INT");
    assert!(clean, "Ctrl-C: {printed}");
    assert!(!printed.contains(KEY));
}

async fn now_ms(client: &reqwest::Client, url: &str) -> u64 {
    let info: Value = client
        .get(format!("{url}/sim/info"))
        .bearer_auth(KEY)
        .send()
        .await
        .expect("info")
        .json()
        .await
        .expect("json");
    info["now_ms"].as_u64().expect("now_ms")
}

#[tokio::test]
async fn lets_simulated_time_pass_at_once_and_keeps_its_clock_across_a_restart() {
    let folder = tempfile::tempdir().expect("tempdir");
    let state = folder.path().join("cluster.json");
    let state_arg = state.to_str().expect("utf-8 path");
    let served = start(Some(KEY), &["--state", state_arg]);
    let client = reqwest::Client::new();
    let advance = |body: Value| {
        client
            .post(format!("{}/sim/control/advance", served.url))
            .bearer_auth(KEY)
            .json(&body)
            .send()
    };
    let answer = advance(serde_json::json!({ "seconds": 30 * 86_400 }))
        .await
        .expect("advance");
    assert_eq!(answer.status(), 200);
    let answer: Value = answer.json().await.expect("json");
    let month_ms = 30 * 86_400 * 1000;
    assert!(
        answer["now_ms"].as_u64().expect("now_ms") >= month_ms,
        "{answer}"
    );
    assert!(now_ms(&client, &served.url).await >= month_ms);
    let refused = advance(serde_json::json!({ "minutes": 5 }))
        .await
        .expect("advance");
    assert_eq!(refused.status(), 400);
    let refused = advance(serde_json::json!({ "seconds": 400 * 86_400 }))
        .await
        .expect("advance");
    assert_eq!(refused.status(), 400);
    let (clean, printed) = served.stop("-TERM");
    assert!(clean, "{printed}");

    // The clock is part of the saved state: a runner resumed against the
    // restarted server compares its journal with the same clock.
    let again = start(Some(KEY), &["--state", state_arg]);
    assert!(now_ms(&client, &again.url).await >= month_ms);
    let (clean, printed) = again.stop("-TERM");
    assert!(clean, "{printed}");
}

#[tokio::test]
async fn generates_a_key_and_prints_it_once() {
    let served = start(None, &[]);
    let key = served
        .printed
        .lines()
        .find_map(|line| line.strip_prefix("api key: "))
        .and_then(|rest| rest.split_whitespace().next())
        .expect("a generated key line")
        .to_owned();
    assert!(key.len() >= 16, "{key}");
    let client = reqwest::Client::new();
    assert_eq!(login(&client, &served.url, &key).await.status(), 200);
    let (clean, printed) = served.stop("-TERM");
    assert!(clean);
    assert_eq!(printed.matches(&key).count(), 1, "{printed}");
}

#[test]
fn bad_options_exit_with_a_usage_error() {
    let output = Command::new(assert_cmd::cargo::cargo_bin("runbook"))
        .args([
            "sim",
            "serve",
            "--addr",
            "127.0.0.1:0",
            "--sim-fault",
            "meteor-strike",
        ])
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("meteor-strike"));

    let folder = tempfile::tempdir().expect("tempdir");
    let state = folder.path().join("broken.json");
    std::fs::write(&state, "{ not a cluster").expect("write");
    let output = Command::new(assert_cmd::cargo::cargo_bin("runbook"))
        .args(["sim", "serve", "--addr", "127.0.0.1:0", "--state"])
        .arg(&state)
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("runbook::sim::state"), "{stderr}");
}

/// A key shorter than 16 characters is refused before anything listens
/// (exit 2, `runbook::sim::weak_key` with a help line), and never printed;
/// 16 characters are enough.
#[test]
fn a_short_api_key_is_refused() {
    let short = "fifteen-chars-k";
    assert_eq!(short.len(), 15);
    let output = Command::new(assert_cmd::cargo::cargo_bin("runbook"))
        .args(["sim", "serve", "--addr", "127.0.0.1:0"])
        .env("RUNBOOK_SIM_API_KEY", short)
        .env("NO_COLOR", "1")
        .output()
        .expect("runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("runbook::sim::weak_key"), "{stderr}");
    assert!(stderr.contains("has 15 characters"), "{stderr}");
    assert!(stderr.contains("help:"), "{stderr}");
    assert!(!stdout.contains("listening"), "{stdout}");
    assert!(!format!("{stdout}{stderr}").contains(short));

    let served = start(Some("sixteen-chars-k!"), &[]);
    let (stopped, printed) = served.stop("-TERM");
    assert!(stopped, "{printed}");
    assert!(!printed.contains("plain_http"), "loopback: {printed}");
}

/// Listening beyond loopback over plain HTTP is allowed, with a warning on
/// stderr naming the risk and what to do instead.
#[test]
fn listening_beyond_loopback_warns() {
    let served = start_on("0.0.0.0:0", Some(KEY), &[]);
    let (stopped, printed) = served.stop("-TERM");
    assert!(stopped, "{printed}");
    assert!(
        printed.contains("warning[runbook::sim::plain_http]: listening on 0.0.0.0:"),
        "{printed}"
    );
    assert!(
        printed.contains("TLS-terminating reverse proxy"),
        "{printed}"
    );
    assert!(!printed.contains(KEY), "{printed}");
}
