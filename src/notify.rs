//! Notifications to people: the events that matter to a team — a run
//! started, a What-if entered, a runtime guard's warning, a prompt waiting
//! for someone at the terminal, a time window about to close, a run
//! finished — posted to webhooks (`--notify URL`, or `notify = [...]` in the
//! inventory) as `{"text": …}`, the form chat tools (Slack, Mattermost,
//! Rocket.Chat, Teams' incoming webhooks) accept, with the event itself
//! under `event` for other receivers.
//!
//! A notification never blocks or fails the run: events are handed to a
//! background task through a channel; each post is tried up to
//! [`ATTEMPTS`] times with doubling back-off and a short time limit, then
//! dropped. Nothing secret is sent: events carry no key, and URLs in them
//! are already redacted. A webhook's own URL (whose path or query often is
//! its secret) is used for posting only: never printed, logged or
//! journaled. When the run ends, the last notifications get at most
//! [`FLUSH_LIMIT`] to go out.
//!
//! In a fleet (`runbook fleet`), each cluster's run has its own sink: its
//! texts name the cluster (`runbook NAME (cluster emea-1) started …`) and
//! its payloads carry it under `cluster`, so one team channel can follow
//! many clusters.

use std::time::Duration;

use tokio::sync::mpsc;

use crate::interp::{Event, EventKind, EventSink};

/// How many times one notification is tried.
pub const ATTEMPTS: u32 = 3;

/// How long the end of a run waits for the last notifications.
pub const FLUSH_LIMIT: Duration = Duration::from_secs(3);

/// The code of the warning that a time window is about to close.
const WINDOW_CLOSING: &str = "runbook::run::window_closing";

/// The time limit of one post.
const POST_LIMIT: Duration = Duration::from_secs(5);

/// An [`EventSink`] that shows events as `inner` does and posts those that
/// matter to people to every webhook.
pub struct NotifyingSink {
    inner: Box<dyn EventSink>,
    runbook: String,
    /// The fleet's name for the cluster, when the run is one of a fleet's.
    cluster: Option<String>,
    /// One channel and one task per webhook: a slow one delays no other.
    senders: Vec<mpsc::UnboundedSender<serde_json::Value>>,
    workers: Vec<tokio::task::JoinHandle<()>>,
}

impl NotifyingSink {
    /// Wraps `inner`; posts to `urls` from a task on the current runtime.
    pub fn new(inner: Box<dyn EventSink>, urls: Vec<String>) -> Self {
        let mut senders = Vec::new();
        let mut workers = Vec::new();
        for url in urls {
            let (sender, receiver) = mpsc::unbounded_channel();
            senders.push(sender);
            workers.push(tokio::spawn(post_all(url, receiver)));
        }
        Self {
            inner,
            runbook: String::new(),
            cluster: None,
            senders,
            workers,
        }
    }

    /// Names the cluster (a fleet entry's name) in every text and payload.
    pub fn for_cluster(mut self, cluster: Option<&str>) -> Self {
        self.cluster = cluster.map(str::to_owned);
        self
    }

    /// How a text names the run: `runbook NAME`, and its cluster in a fleet.
    fn who(&self) -> String {
        match &self.cluster {
            Some(cluster) => format!("runbook {} (cluster {cluster})", self.runbook),
            None => format!("runbook {}", self.runbook),
        }
    }

    /// Lets the last notifications go out (at most [`FLUSH_LIMIT`]).
    pub async fn flush(&mut self) {
        self.senders.clear();
        let workers = std::mem::take(&mut self.workers);
        let all = futures_join_all(workers);
        let _ = tokio::time::timeout(FLUSH_LIMIT, all).await;
    }

    /// The text a chat shows for `event`, for the events that matter to
    /// people.
    fn text(&mut self, event: &Event) -> Option<String> {
        Some(match &event.kind {
            EventKind::RunStarted {
                runbook,
                target,
                resumed,
                run_id,
                ..
            } => {
                self.runbook.clone_from(runbook);
                let verb = if *resumed { "resumed" } else { "started" };
                format!("{} {verb} on {target} (run {run_id})", self.who())
            }
            EventKind::WhatIf { name, reason } => {
                format!("{}: What-if {name} entered: {reason}", self.who())
            }
            // Only prompts left to a person at the terminal: an answers
            // file or `--yes` answers the others without waiting.
            EventKind::PromptWaiting { id, text, operator } => format!(
                "{}: waiting for {operator} to answer `{id}` at the terminal: {text}",
                self.who()
            ),
            EventKind::Warning { code, message } if code == WINDOW_CLOSING => {
                format!("{}: {message}", self.who())
            }
            // The runtime guard's warnings (`guard_…` codes of the run).
            EventKind::Warning { code, message }
                if code
                    .rsplit("::")
                    .next()
                    .is_some_and(|name| name.starts_with("guard_")) =>
            {
                format!("{}: {message} ({code})", self.who())
            }
            EventKind::RunFinished {
                outcome,
                message,
                resume,
                ..
            } => {
                let next = resume
                    .as_ref()
                    .map(|command| format!(" To continue: {command}"))
                    .unwrap_or_default();
                format!("{} {}: {message}.{next}", self.who(), outcome.as_str())
            }
            _ => return None,
        })
    }
}

impl EventSink for NotifyingSink {
    fn emit(&mut self, event: Event) {
        if let Some(text) = self.text(&event) {
            let mut payload = serde_json::json!({
                "text": text,
                "event": event,
            });
            if let Some(cluster) = &self.cluster {
                payload["cluster"] = serde_json::Value::from(cluster.as_str());
            }
            for sender in &self.senders {
                // A worker may be gone (flushed): the run goes on.
                let _ = sender.send(payload.clone());
            }
        }
        self.inner.emit(event);
    }

    fn countdown(&mut self, countdown: Option<crate::interp::events::Countdown>) {
        self.inner.countdown(countdown);
    }
}

/// Posts every payload to `url`, in order, until the channel closes.
async fn post_all(url: String, mut receiver: mpsc::UnboundedReceiver<serde_json::Value>) {
    let Ok(client) = reqwest::Client::builder().timeout(POST_LIMIT).build() else {
        return;
    };
    while let Some(payload) = receiver.recv().await {
        let mut delay = Duration::from_millis(250);
        for attempt in 1..=ATTEMPTS {
            let sent = client.post(&url).json(&payload).send().await;
            if sent.is_ok_and(|response| response.status().is_success()) {
                break;
            }
            if attempt < ATTEMPTS {
                tokio::time::sleep(delay).await;
                delay *= 2;
            }
        }
    }
}

/// Waits for every task (each ends when its channel is closed and drained).
async fn futures_join_all(workers: Vec<tokio::task::JoinHandle<()>>) {
    for worker in workers {
        let _ = worker.await;
    }
}
