//! Requests and sessions, as the official client makes them: `GET /api`
//! for the offered API versions, `POST {version}/login` with the API key
//! (and the domain), the entry points looked up by `rel`, the server's SMC
//! version through `system` → `smc_version`, `Content-Type:
//! application/json` on every request, one login again on a 401, reads
//! retried with back-off (503, 409, 429, other 5xx, transport errors),
//! actions never retried, and `PUT logout` at the end.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{HeaderValue, AUTHORIZATION, CONTENT_TYPE, COOKIE, SET_COOKIE};
use reqwest::{Method, StatusCode};
use serde_json::Value;

use super::answers::{self, malformed};
use super::options::SmcSettings;
use super::{lock, SmcConnector, SmcServer};
use crate::cluster::{Operation, Version};
use crate::connect::ConnectorError;

/// The oldest SMC version whose HA API the connector drives.
pub const OLDEST_SUPPORTED: [u32; 2] = [7, 3];

/// A logged-in session on one server, with what discovery found.
#[derive(Debug)]
pub(super) struct Session {
    /// The `JSESSIONID=...` cookie pair.
    pub cookie: Option<String>,
    /// The `Authorization` header the login answered with, if any (the
    /// official client sends it back on every request).
    pub token: Option<String>,
    /// `rel → href` of the entry points.
    pub entry_points: HashMap<String, String>,
    /// The server's SMC version (`system` → `smc_version`).
    pub version: Version,
}

impl Session {
    /// The href of an entry point, or a malformed-answer error naming it.
    pub fn entry(&self, rel: &str, api: &str) -> Result<String, ConnectorError> {
        self.entry_points.get(rel).cloned().ok_or_else(|| {
            malformed(
                &format!("{api} (entry points)"),
                format!("no `{rel}` entry point: expected one in `entry_point`"),
            )
        })
    }

    /// `{ha href}/{action}`, as the official client builds HA resources.
    pub fn ha(&self, api: &str, resource: &str) -> Result<String, ConnectorError> {
        Ok(format!(
            "{}/{resource}",
            self.entry("ha", api)?.trim_end_matches('/')
        ))
    }
}

/// One HTTP answer: its status, body and the session it opened, if any.
pub(super) struct Answer {
    pub status: StatusCode,
    pub bytes: Vec<u8>,
    pub cookie: Option<String>,
    pub token: Option<String>,
}

enum Attempt {
    Answer(Value),
    Unauthorized(String),
    Failed(ConnectorError),
}

/// What a request is for, in messages.
pub(super) struct Purpose<'a> {
    /// e.g. `reading the cluster state` or `exclude mgt-2`.
    pub what: String,
    /// The operation the request performs, if any (names it in refusals).
    pub operation: Option<&'a Operation>,
    /// Retries after a retryable failure (0 for actions).
    pub retries: u32,
    /// A longer time limit for this request (the diagnostic's).
    pub timeout: Option<Duration>,
    /// A query string.
    pub query: Vec<(&'static str, String)>,
}

impl Purpose<'_> {
    /// A read of the cluster state, retried `retries` times.
    pub fn read(retries: u32) -> Self {
        Purpose {
            what: "reading the cluster state".to_owned(),
            operation: None,
            retries,
            timeout: None,
            query: Vec::new(),
        }
    }
}

impl SmcConnector {
    /// Sends one request and returns its answer; maps transport errors.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn send(
        &self,
        server: &str,
        what: &str,
        method: Method,
        url: &str,
        session: Option<&Session>,
        body: Option<Value>,
        timeout: Option<Duration>,
    ) -> Result<Answer, ConnectorError> {
        let mut request = self
            .client
            .request(method, url)
            .header(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        if let Some(session) = session {
            if let Some(cookie) = &session.cookie {
                request = request.header(COOKIE, cookie);
            }
            if let Some(token) = &session.token {
                request = request.header(AUTHORIZATION, token);
            }
        }
        if let Some(body) = body {
            request = request.body(body.to_string());
        }
        if let Some(timeout) = timeout {
            request = request.timeout(timeout);
        }
        let response = request
            .send()
            .await
            .map_err(|error| transport_error(url, server, what, &self.settings, error))?;
        let status = response.status();
        let cookie = response
            .headers()
            .get_all(SET_COOKIE)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .filter_map(|value| value.split(';').next())
            .find(|pair| pair.trim_start().starts_with("JSESSIONID="))
            .map(|pair| pair.trim().to_owned());
        let token = response
            .headers()
            .get(AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned);
        let bytes = response
            .bytes()
            .await
            .map_err(|error| transport_error(url, server, what, &self.settings, error))?;
        Ok(Answer {
            status,
            bytes: bytes.to_vec(),
            cookie,
            token,
        })
    }

    pub(super) async fn backoff(&self, attempt: u32) {
        let pause = self
            .settings
            .retry_backoff
            .saturating_mul(1u32 << attempt.min(10));
        tokio::time::sleep(pause).await;
    }

    /// The session on `server`, logging in when there is none.
    pub(super) async fn session(&self, server: &SmcServer) -> Result<Arc<Session>, ConnectorError> {
        if let Some(session) = lock(&self.sessions).get(&server.name) {
            return Ok(session.clone());
        }
        let session = Arc::new(self.login(server).await?);
        lock(&self.sessions).insert(server.name.clone(), session.clone());
        Ok(session)
    }

    pub(super) fn forget_session(&self, server: &str) {
        lock(&self.sessions).remove(server);
    }

    /// The SMC version of `server` if a session on it is open.
    pub(super) fn session_version(&self, server: &str) -> Option<Version> {
        lock(&self.sessions)
            .get(server)
            .map(|session| session.version.clone())
    }

    /// Discovers the API versions, logs in, reads the entry points and the
    /// server's SMC version, and refuses a version the connector cannot drive.
    async fn login(&self, server: &SmcServer) -> Result<Session, ConnectorError> {
        let versions_url = format!("{}/api", server.api);
        let answer = self
            .send(
                &server.name,
                "discovering the API versions",
                Method::GET,
                &versions_url,
                None,
                None,
                None,
            )
            .await?;
        let versions = check_status(&versions_url, answer.status, &answer.bytes, None)?;
        let offered = answers::offered_api_versions(&versions_url, &versions)?;
        let chosen = match &self.settings.api_version {
            Some(wanted) => offered
                .iter()
                .find(|offered| *offered == wanted)
                .cloned()
                .ok_or_else(|| ConnectorError::Config {
                    message: format!(
                        "{versions_url} does not offer API version {wanted} (offered: {})",
                        offered.join(", ")
                    ),
                })?,
            None => offered
                .iter()
                .max_by_key(|rel| rel.parse::<Version>().ok())
                .cloned()
                .ok_or_else(|| {
                    malformed(
                        &versions_url,
                        "field `version`: expected a list of {\"rel\": \"7.3\", ...}, found an empty list",
                    )
                })?,
        };
        let version_base = format!("{}/{chosen}", server.api);
        let login_url = format!("{version_base}/login");
        let mut body = serde_json::json!({ "authenticationkey": self.key.expose() });
        if let Some(domain) = &self.settings.domain {
            body["domain"] = Value::String(domain.clone());
        }
        let answer = self
            .send(
                &server.name,
                "logging in",
                Method::POST,
                &login_url,
                None,
                Some(body),
                None,
            )
            .await?;
        if answer.status == StatusCode::UNAUTHORIZED {
            return Err(ConnectorError::WrongKey { url: login_url });
        }
        check_status(&login_url, answer.status, &answer.bytes, None)?;
        if answer.cookie.is_none() && answer.token.is_none() {
            return Err(ConnectorError::NoSessionCookie { url: login_url });
        }
        let mut session = Session {
            cookie: answer.cookie,
            token: answer.token,
            entry_points: HashMap::new(),
            version: Version::from_parts(Vec::new()),
        };
        let entry_url = format!("{version_base}/api");
        let entry_points = self.read_in_login(server, &session, &entry_url).await?;
        session.entry_points = answers::entry_points(&entry_url, &entry_points)?;
        let system_url = session.entry("system", &server.api)?;
        let system = self.read_in_login(server, &session, &system_url).await?;
        let version_url = answers::link(&system_url, &system, "smc_version")?;
        let version = self.read_in_login(server, &session, &version_url).await?;
        session.version = answers::smc_version(&version_url, &version)?;
        if session.version.parts() < &OLDEST_SUPPORTED[..] {
            // A session is open: close it before refusing.
            self.logout_session(&session).await;
            return Err(ConnectorError::UnsupportedVersion {
                server: server.name.clone(),
                version: session.version.to_string(),
            });
        }
        Ok(session)
    }

    /// A read while a session is being built (no login again on a 401).
    async fn read_in_login(
        &self,
        server: &SmcServer,
        session: &Session,
        url: &str,
    ) -> Result<Value, ConnectorError> {
        let answer = self
            .send(
                &server.name,
                "logging in",
                Method::GET,
                url,
                Some(session),
                None,
                None,
            )
            .await?;
        if answer.status == StatusCode::UNAUTHORIZED {
            return Err(ConnectorError::SessionExpired {
                url: url.to_owned(),
            });
        }
        check_status(url, answer.status, &answer.bytes, None)
    }

    /// Ends one session (`PUT` on its `logout` entry point); errors are ignored.
    pub(super) async fn logout_session(&self, session: &Session) {
        if let Some(url) = session.entry_points.get("logout") {
            let _ = self
                .send(
                    "",
                    "logging out",
                    Method::PUT,
                    url,
                    Some(session),
                    None,
                    None,
                )
                .await;
        }
    }

    /// One API call on `server`: logs in if needed, logs in again once on
    /// 401; reads (`retries > 0`) are retried with backoff on retryable
    /// failures; actions never are.
    pub(super) async fn call(
        &self,
        server: &SmcServer,
        method: Method,
        target: &(dyn Fn(&Session) -> Result<String, ConnectorError> + Sync),
        purpose: &Purpose<'_>,
    ) -> Result<Value, ConnectorError> {
        let mut logged_in_again = false;
        let mut attempt = 0;
        loop {
            match self.attempt(server, &method, target, purpose).await {
                Attempt::Answer(value) => return Ok(value),
                Attempt::Unauthorized(url) => {
                    // The session expired; the request was not executed, so
                    // sending it again (even an action) is safe.
                    self.forget_session(&server.name);
                    if logged_in_again {
                        return Err(ConnectorError::SessionExpired { url });
                    }
                    logged_in_again = true;
                }
                Attempt::Failed(error) if attempt < purpose.retries && retryable(&error) => {
                    self.backoff(attempt).await;
                    attempt += 1;
                }
                Attempt::Failed(error) => return Err(error),
            }
        }
    }

    async fn attempt(
        &self,
        server: &SmcServer,
        method: &Method,
        target: &(dyn Fn(&Session) -> Result<String, ConnectorError> + Sync),
        purpose: &Purpose<'_>,
    ) -> Attempt {
        let session = match self.session(server).await {
            Ok(session) => session,
            Err(error) => return Attempt::Failed(error),
        };
        let url = match target(&session) {
            Ok(url) => url,
            Err(error) => return Attempt::Failed(error),
        };
        let url = if purpose.query.is_empty() {
            url
        } else {
            match reqwest::Url::parse(&url) {
                Ok(mut parsed) => {
                    parsed.query_pairs_mut().extend_pairs(&purpose.query);
                    parsed.to_string()
                }
                Err(error) => return Attempt::Failed(malformed(&url, error.to_string())),
            }
        };
        match self
            .send(
                &server.name,
                &purpose.what,
                method.clone(),
                &url,
                Some(&session),
                None,
                purpose.timeout,
            )
            .await
        {
            Ok(answer) if answer.status == StatusCode::UNAUTHORIZED => Attempt::Unauthorized(url),
            Ok(answer) => match check_status(&url, answer.status, &answer.bytes, purpose.operation)
            {
                Ok(value) => Attempt::Answer(value),
                Err(error) => Attempt::Failed(error),
            },
            Err(error) => Attempt::Failed(error),
        }
    }
}

const CLOSED: &str = "the connection was closed without an answer (is the server stopped?)";

/// Whether a refusal's reason is a connection closed without an answer
/// (rather than a connection refused).
pub(super) fn is_closed_connection(reason: &str) -> bool {
    reason == CLOSED
}

/// Maps a reqwest error: timeout, refused connection, closed connection, TLS.
pub(super) fn transport_error(
    url: &str,
    server: &str,
    what: &str,
    settings: &SmcSettings,
    error: reqwest::Error,
) -> ConnectorError {
    if error.is_timeout() {
        if error.is_connect() {
            return ConnectorError::Timeout {
                server: server.to_owned(),
                what: format!("connecting to {url}, for {what}"),
                limit: settings.connect_timeout,
            };
        }
        return ConnectorError::Timeout {
            server: server.to_owned(),
            what: what.to_owned(),
            limit: settings.request_timeout,
        };
    }
    if let Some(tls) = rustls_error(&error) {
        if matches!(
            tls,
            rustls::Error::InvalidCertificate(_) | rustls::Error::NoCertificatesPresented
        ) {
            return ConnectorError::TlsVerification {
                url: url.to_owned(),
                reason: tls.to_string(),
            };
        }
    }
    let reason = if error.is_connect() {
        let mut cause = String::from("connection refused or address unreachable");
        let mut source = std::error::Error::source(&error);
        while let Some(inner) = source {
            cause = inner.to_string();
            source = inner.source();
        }
        cause
    } else {
        CLOSED.to_owned()
    };
    ConnectorError::Refused {
        url: url.to_owned(),
        reason,
    }
}

/// The TLS error somewhere in the causes of `error`. The TLS layer reports
/// it inside an `io::Error`, whose `source()` skips the error it wraps, so
/// those are opened with `get_ref()`.
fn rustls_error<'e>(error: &'e (dyn std::error::Error + 'static)) -> Option<&'e rustls::Error> {
    let mut current = Some(error);
    while let Some(inner) = current {
        if let Some(found) = inner.downcast_ref::<rustls::Error>() {
            return Some(found);
        }
        if let Some(wrapped) = inner
            .downcast_ref::<std::io::Error>()
            .and_then(std::io::Error::get_ref)
        {
            if let Some(found) = rustls_error(wrapped) {
                return Some(found);
            }
        }
        current = inner.source();
    }
    None
}

/// Turns a status and body into the JSON value or the connector error.
/// Error bodies are `{"message", "details"?, "status": 0}`.
pub(super) fn check_status(
    url: &str,
    status: StatusCode,
    body: &[u8],
    operation: Option<&Operation>,
) -> Result<Value, ConnectorError> {
    let parsed: Result<Value, _> = if body.is_empty() {
        Ok(Value::Null)
    } else {
        serde_json::from_slice(body)
    };
    if status.is_success() {
        return parsed.map_err(|error| malformed(url, format!("the body is not JSON: {error}")));
    }
    let body = parsed.unwrap_or(Value::Null);
    let message = body
        .get("message")
        .and_then(Value::as_str)
        .unwrap_or_else(|| status.canonical_reason().unwrap_or("error"))
        .to_owned();
    let details: Vec<String> = body
        .get("details")
        .and_then(Value::as_array)
        .map(|details| {
            details
                .iter()
                .filter_map(|line| line.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let described = operation.map_or_else(|| format!("the request to {url}"), ToString::to_string);
    Err(match status.as_u16() {
        504 => ConnectorError::Timeout {
            server: operation
                .map_or_else(|| url.to_owned(), |operation| operation.server().to_owned()),
            what: format!("{described}: {message}"),
            limit: Duration::ZERO,
        },
        // Busy (409), too many requests (429), unavailable (503) and other
        // server errors: reads are retried with back-off.
        409 | 429 | 500..=599 => ConnectorError::ServerError {
            url: url.to_owned(),
            status: status.as_u16(),
            message,
        },
        400 | 403 => ConnectorError::ActionRefused {
            operation: described,
            message,
            details,
        },
        422 => failure_error(operation, &described, message, body.get("failure")),
        other => ConnectorError::UnexpectedStatus {
            url: url.to_owned(),
            status: other,
            message,
        },
    })
}

/// The error of an operation that ran and did not succeed (the simulator's
/// console routes name the failure kind).
pub(super) fn failure_error(
    operation: Option<&Operation>,
    described: &str,
    message: String,
    failure: Option<&Value>,
) -> ConnectorError {
    match (failure.and_then(Value::as_str), operation) {
        (Some("upgrade-cancelled"), Some(operation)) => ConnectorError::UpgradeCancelled {
            operation: described.to_owned(),
            server: operation.server().to_owned(),
            message,
        },
        _ => ConnectorError::OperationFailed {
            operation: described.to_owned(),
            message,
        },
    }
}

/// Whether a read may be retried after this error.
pub(super) fn retryable(error: &ConnectorError) -> bool {
    matches!(
        error,
        ConnectorError::Refused { .. }
            | ConnectorError::ServerError { .. }
            | ConnectorError::Malformed { .. }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_map_to_connector_errors() {
        let exclude = Operation::Exclude {
            server: "mgt-1".into(),
        };
        let refused = check_status(
            "u",
            StatusCode::BAD_REQUEST,
            br#"{"message":"no","details":["d"],"status":0}"#,
            Some(&exclude),
        );
        assert!(
            matches!(refused, Err(ConnectorError::ActionRefused { ref details, .. }) if details == &["d"])
        );
        let cancelled = check_status(
            "u",
            StatusCode::UNPROCESSABLE_ENTITY,
            br#"{"message":"m","failure":"upgrade-cancelled"}"#,
            Some(&exclude),
        );
        assert!(matches!(
            cancelled,
            Err(ConnectorError::UpgradeCancelled { .. })
        ));
        for busy in [409, 429, 502, 503] {
            let status = StatusCode::from_u16(busy).expect("status");
            assert!(
                matches!(check_status("u", status, b"<html>", None), Err(ref error @ ConnectorError::ServerError { .. }) if retryable(error)),
                "{busy} is retried"
            );
        }
        assert!(matches!(
            check_status("u", StatusCode::OK, b"{", None),
            Err(ConnectorError::Malformed { .. })
        ));
        assert!(matches!(
            check_status("u", StatusCode::NOT_FOUND, b"", None),
            Err(ConnectorError::UnexpectedStatus { status: 404, .. })
        ));
        assert_eq!(
            check_status("u", StatusCode::NO_CONTENT, b"", None).ok(),
            Some(Value::Null)
        );
    }
}
