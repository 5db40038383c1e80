//! `--notify URL`: the events that matter to people reach a webhook on
//! loopback as `{"text": …, "event": …}`, a failed post is tried again, a
//! webhook that never answers neither blocks nor fails the run, and no
//! secret is sent.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use crate::support::process::{command_in, show};

/// A webhook on loopback: the bodies it received; its first answer is a
/// 500 (the poster must try again), then 200.
fn webhook() -> (String, Arc<Mutex<Vec<serde_json::Value>>>) {
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
