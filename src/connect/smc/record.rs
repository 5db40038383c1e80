//! Recording what a server answers on every published read entry point,
//! for `runbook probe --record`: the raw answers (statuses and bodies,
//! errors included), with the server's own API root written `{root}`, IPv4
//! addresses replaced by documentation addresses and no cookie or key, in
//! the fixture format of `tests/fixtures/smc/` (see its README).

use std::collections::{BTreeMap, HashMap};

use reqwest::{Method, StatusCode};
use serde::Serialize;
use serde_json::Value;

use super::answers;
use super::transport::{check_status, Session};
use super::{SmcConnector, SmcServer};
use crate::connect::ConnectorError;

/// One recorded answer.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RecordedAnswer {
    /// The HTTP status.
    pub status: u16,
    /// The JSON body, if any (redacted).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<Value>,
    /// For the login: whether it opened a session (the cookie is not kept).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub session: bool,
}

/// Every answer of one server, by `"METHOD /path"` relative to its API root.
pub type RecordedAnswers = BTreeMap<String, RecordedAnswer>;

/// Replaces addresses in recorded answers: the server's root becomes
/// `{root}`, each IPv4 address a documentation address (192.0.2.x, the
/// same one for the same address across every server of a recording).
#[derive(Debug, Default)]
pub struct Redactor {
    addresses: HashMap<String, String>,
}

impl Redactor {
    fn text(&mut self, root: &str, text: &str) -> String {
        let rooted = text.replace(root, "{root}");
        let mut out = String::with_capacity(rooted.len());
        let mut rest = rooted.as_str();
        while let Some((start, end)) = find_ipv4(rest) {
            out.push_str(&rest[..start]);
            let next = self.addresses.len() + 1;
            let replacement = self
                .addresses
                .entry(rest[start..end].to_owned())
                .or_insert_with(|| format!("192.0.2.{next}"));
            out.push_str(replacement);
            rest = &rest[end..];
        }
        out.push_str(rest);
        out
    }

    /// `value` with every string redacted.
    pub fn value(&mut self, root: &str, value: &Value) -> Value {
        match value {
            Value::String(text) => Value::String(self.text(root, text)),
            Value::Array(items) => {
                Value::Array(items.iter().map(|item| self.value(root, item)).collect())
            }
            Value::Object(fields) => Value::Object(
                fields
                    .iter()
                    .map(|(key, field)| (key.clone(), self.value(root, field)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }
}

/// The first dotted-quad IPv4 address in `text`: its byte range.
fn find_ipv4(text: &str) -> Option<(usize, usize)> {
    let bytes = text.as_bytes();
    let mut start = 0;
    while start < bytes.len() {
        if bytes[start].is_ascii_digit() && (start == 0 || !bytes[start - 1].is_ascii_digit()) {
            let mut end = start;
            let mut parts = 0;
            loop {
                let part_start = end;
                while end < bytes.len() && bytes[end].is_ascii_digit() && end - part_start < 3 {
                    end += 1;
                }
                if end == part_start {
                    break;
                }
                parts += 1;
                if parts == 4 || end >= bytes.len() || bytes[end] != b'.' {
                    break;
                }
                end += 1;
            }
            let boundary = end >= bytes.len() || !bytes[end].is_ascii_digit();
            if parts == 4 && boundary {
                return Some((start, end));
            }
        }
        start += 1;
    }
    None
}

impl SmcConnector {
    /// Logs in to `server` and records every published read entry point,
    /// errors included. The session is logged out at the end.
    pub async fn record(
        &self,
        server_name: &str,
        redactor: &mut Redactor,
    ) -> Result<RecordedAnswers, ConnectorError> {
        let server = self.server(server_name)?.clone();
        let mut recorded = RecordedAnswers::new();
        let session = self.session(&server).await?;
        let version = session
            .entry("ha", &server.api)?
            .trim_start_matches(&server.api)
            .split('/')
            .nth(1)
            .unwrap_or_default()
            .to_owned();
        let mut put = |method: &str, url: &str, answer: RecordedAnswer| {
            let path = url
                .strip_prefix(&server.api)
                .unwrap_or(url)
                .split('?')
                .next()
                .unwrap_or_default()
                .to_owned();
            recorded.insert(format!("{method} {path}"), answer);
        };
        let root_api = format!("{}/api", server.api);
        let versions = self.raw(&server, None, Method::GET, &root_api).await?;
        put("GET", &root_api, redact(redactor, &server, versions));
        put(
            "POST",
            &format!("{}/{version}/login", server.api),
            RecordedAnswer {
                status: 200,
                body: None,
                session: true,
            },
        );
        let mut urls = vec![format!("{}/{version}/api", server.api)];
        for rel in ["system", "current_user", "ha"] {
            if let Ok(url) = session.entry(rel, &server.api) {
                urls.push(url);
            }
        }
        for resource in [
            "diagnostic",
            "database_replication_diagnostic",
            "all_servers_replication_states",
            "audit_replication_diagnostic",
        ] {
            urls.push(session.ha(&server.api, resource)?);
        }
        let mut index = 0;
        while index < urls.len() {
            let url = urls[index].clone();
            index += 1;
            let answer = self.raw(&server, Some(&session), Method::GET, &url).await?;
            if let Some(body) = &answer.body {
                // Follow what the answers point at: the SMC version, the
                // current user, every Management Server element.
                let mut next = Vec::new();
                if let Ok(href) = answers::link(&url, body, "smc_version") {
                    next.push(href);
                }
                if url.ends_with("/current_user") {
                    next.extend(body.get("value").and_then(Value::as_str).map(str::to_owned));
                }
                if let Ok(ha) = answers::ha(&url, body) {
                    next.push(ha.connected);
                    next.extend(ha.active);
                    next.extend(ha.standbys);
                }
                for href in next {
                    if href.starts_with(&server.api) && !urls.contains(&href) {
                        urls.push(href);
                    }
                }
            }
            put("GET", &url, redact(redactor, &server, answer));
        }
        let logout = session.entry("logout", &server.api)?;
        let answer = self
            .raw(&server, Some(&session), Method::PUT, &logout)
            .await?;
        put("PUT", &logout, redact(redactor, &server, answer));
        self.forget_session(&server.name);
        Ok(recorded)
    }

    /// One request, its answer kept whatever its status.
    async fn raw(
        &self,
        server: &SmcServer,
        session: Option<&Session>,
        method: Method,
        url: &str,
    ) -> Result<RecordedAnswer, ConnectorError> {
        let answer = self
            .send(&server.name, "recording", method, url, session, None, None)
            .await?;
        let body = if answer.bytes.is_empty() {
            None
        } else {
            let parsed = if answer.status.is_success() {
                check_status(url, answer.status, &answer.bytes, None)?
            } else {
                serde_json::from_slice(&answer.bytes).unwrap_or(Value::Null)
            };
            Some(parsed)
        };
        Ok(RecordedAnswer {
            status: answer.status.as_u16(),
            body,
            session: answer.status == StatusCode::OK && answer.cookie.is_some(),
        })
    }
}

fn redact(redactor: &mut Redactor, server: &SmcServer, answer: RecordedAnswer) -> RecordedAnswer {
    RecordedAnswer {
        body: answer.body.map(|body| redactor.value(&server.api, &body)),
        ..answer
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_and_the_root_are_redacted() {
        let mut redactor = Redactor::default();
        let body = serde_json::json!({
            "href": "https://10.1.2.3:8082/7.3/ha",
            "message": ["Management IP addresses: 10.1.2.3 and 172.16.0.9", "version 7.3.4"],
        });
        let redacted = redactor.value("https://10.1.2.3:8082", &body);
        assert_eq!(redacted["href"], "{root}/7.3/ha");
        assert_eq!(
            redacted["message"][0],
            "Management IP addresses: 192.0.2.1 and 192.0.2.2"
        );
        assert_eq!(redacted["message"][1], "version 7.3.4");
    }
}
