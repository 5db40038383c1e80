//! `--notify URL`: the events that matter to people reach a webhook on
//! loopback as `{"text": …, "event": …}`, a failed post is tried again, a
//! webhook that never answers neither blocks nor fails the run, and no
//! secret is sent. A time window about to close is posted once; the
//! inventory's `notify = [...]` webhooks are posted to like `--notify`
//! ones, and their URLs (user-info, token) are never printed or journaled.
//! (A prompt waiting at the terminal: `tty.rs`, which has a terminal.)

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use crate::support::fixture;
use crate::support::process::{command_in, records, show, SimServe, KEY};

/// A webhook on loopback: the bodies it received; its first answer is a
/// 500 (the poster must try again), then 200.
pub fn webhook() -> (String, Arc<Mutex<Vec<serde_json::Value>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let received = Arc::new(Mutex::new(Vec::new()));
    let bodies = Arc::clone(&received);
    std::thread::spawn(move || {
        let mut answered = 0;
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut writer = stream;
            // Keep-alive: several requests per connection.
            loop {
                let mut length = 0usize;
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 {
                    break;
                }
                loop {
                    let mut header = String::new();
                    if reader.read_line(&mut header).unwrap_or(0) == 0 || header == "\r\n" {
                        break;
                    }
                    if let Some(value) = header.to_ascii_lowercase().strip_prefix("content-length:")
                    {
                        length = value.trim().parse().unwrap_or(0);
                    }
                }
                let mut body = vec![0; length];
                if reader.read_exact(&mut body).is_err() {
                    break;
                }
                answered += 1;
                let status = if answered == 1 {
                    "500 Internal Server Error"
                } else {
                    "200 OK"
                };
                if answered > 1 {
                    if let Ok(value) = serde_json::from_slice(&body) {
                        bodies.lock().unwrap().push(value);
                    }
                }
                let _ = writer.write_all(
                    format!("HTTP/1.1 {status}\r\nContent-Length: 0\r\n\r\n").as_bytes(),
                );
            }
        }
    });
    (url, received)
}

#[test]
fn the_events_that_matter_reach_the_webhook_and_a_dead_one_does_not_block() {
    let dir = tempfile::tempdir().unwrap();
    let (url, received) = webhook();
    // A second webhook that accepts connections and never answers.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let silent_url = format!("http://{}/hook", silent.local_addr().unwrap());
    let output = command_in(dir.path())
        .args(["run", "upgrade-with-downtime", "--yes", "--format", "json"])
        .args(["--sim-fault", "upgrade-fails:mgt-2"])
        .args(["--notify", &url, "--notify", &silent_url])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", show(&output));
    let texts: Vec<String> = received
        .lock()
        .unwrap()
        .iter()
        .filter_map(|body| body["text"].as_str().map(str::to_owned))
        .collect();
    assert!(
        texts[0].starts_with("runbook upgrade-with-downtime started"),
        "{texts:?}"
    );
    assert!(
        texts
            .iter()
            .any(|text| text.contains("What-if installer-failed entered")),
        "{texts:?}"
    );
    assert!(
        texts.last().is_some_and(
            |text| text.starts_with("runbook upgrade-with-downtime stopped")
                && text.contains("To continue: runbook resume")
        ),
        "{texts:?}"
    );
    let bodies = received.lock().unwrap();
    assert!(
        bodies.iter().all(|body| body["event"]["event"].is_string()),
        "{bodies:?}"
    );
    drop(silent);
}

/// The texts a webhook received.
fn texts(received: &Mutex<Vec<serde_json::Value>>) -> Vec<String> {
    received
        .lock()
        .unwrap()
        .iter()
        .filter_map(|body| body["text"].as_str().map(str::to_owned))
        .collect()
}

/// A 12m window across a `wait` of about 10m (an administrator change
/// every 5m): the step starts in time, but the window was closing while
/// the run waited — said once, as a warning, posted, and journaled.
#[test]
fn a_window_about_to_close_is_posted_once() {
    let dir = tempfile::tempdir().unwrap();
    let (url, received) = webhook();
    let output = command_in(dir.path())
        .arg("run")
        .arg(fixture("window-wait.runbook"))
        .args(["--set", "window=12m", "--sim-fault", "changes-on-active"])
        .args([
            "--format",
            "json",
            "--journal",
            "run.jsonl",
            "--notify",
            &url,
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", show(&output));
    let closing: Vec<String> = texts(&received)
        .into_iter()
        .filter(|text| text.contains("window after `anchor` closes in"))
        .collect();
    assert_eq!(closing.len(), 1, "{closing:?}");
    assert!(
        closing[0].starts_with("runbook window-wait: the 12m window after `anchor` closes in ")
            && closing[0].ends_with("step `hurry` must start before then"),
        "{}",
        closing[0]
    );
    let journaled = records(&dir.path().join("run.jsonl"))
        .into_iter()
        .filter(|record| {
            record["record"] == "warning" && record["code"] == "runbook::run::window_closing"
        })
        .count();
    assert_eq!(journaled, 1);
    // Nothing said of a window that was not closing (the default 1m window
    // of the fixture is exceeded: that is the late start's warning).
    let late = command_in(dir.path())
        .arg("run")
        .arg(fixture("window-wait.runbook"))
        .args(["--sim-fault", "changes-on-active", "--format", "json"])
        .args(["--journal", "late.jsonl"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&late.stdout);
    assert!(stdout.contains("runbook::run::window_exceeded"), "{stdout}");
}

/// `notify = [...]` in the inventory: the run posts there as with
/// `--notify`; the URL's password and token show nowhere.
#[test]
fn the_inventory_names_webhooks_and_their_secrets_stay_hidden() {
    let dir = tempfile::tempdir().unwrap();
    let (url, received) = webhook();
    let sim = SimServe::start(dir.path(), 20_000);
    let secret_url = url.replace("http://", "http://hookuser:hookpass@") + "?token=hooktoken";
    let mut inventory = format!(
        "notify = [\"{secret_url}\"]\n\n[api]\napi_key_env = \"NOTIFY_TEST_KEY\"\nrequest_timeout = \"5s\"\npoll_interval = \"1ms\"\n\n"
    );
    for name in ["mgt-1", "mgt-2", "mgt-3"] {
        inventory.push_str(&format!(
            "[[servers]]\nname = \"{name}\"\nhost = \"{name}.lab\"\napi = \"{}/servers/{name}\"\n\n",
            sim.url
        ));
    }
    std::fs::write(dir.path().join("inventory.toml"), inventory).unwrap();
    // Reads only: the inventory needs no console command.
    std::fs::write(
        dir.path().join("look.runbook"),
        "runbook look {\n    title \"Look\"\n    step look \"Look at the Standbys\" {\n        check all s in standbys(): s.running else \"the Standbys run\"\n    }\n}\n",
    )
    .unwrap();
    let output = command_in(dir.path())
        .args(["run", "look.runbook", "--target", "inventory.toml"])
        .args(["--journal", "run.jsonl"])
        .env("NOTIFY_TEST_KEY", KEY)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", show(&output));
    let texts = texts(&received);
    assert!(
        texts
            .first()
            .is_some_and(|text| text.contains("runbook look started")),
        "{texts:?}"
    );
    assert!(
        texts
            .last()
            .is_some_and(|text| text.contains("runbook look succeeded")),
        "{texts:?}"
    );
    let journal = std::fs::read_to_string(dir.path().join("run.jsonl")).unwrap();
    for secret in ["hookpass", "hooktoken", "hookuser"] {
        assert!(!journal.contains(secret), "{secret} journaled");
        assert!(!show(&output).contains(secret), "{secret} printed");
    }

    // A webhook that is not an http(s) URL is refused with the inventory's
    // line, before anything runs (exit 2).
    let bad = std::fs::read_to_string(dir.path().join("inventory.toml"))
        .unwrap()
        .replace(&secret_url, "ftp://files.example.net/hook");
    std::fs::write(dir.path().join("bad.toml"), bad).unwrap();
    let refused = command_in(dir.path())
        .args(["run", "look.runbook", "--target", "bad.toml"])
        .env("NOTIFY_TEST_KEY", KEY)
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2), "{}", show(&refused));
    assert!(
        show(&refused).contains("a webhook is an http(s) URL"),
        "{}",
        show(&refused)
    );
}
