//! The product routes of `sim serve`, relative to one server's API root (the
//! front strips `/servers/NAME`). They answer what a real Management Server
//! answers, field for field, as `docs/smc-api-facts.md` lists with the public
//! source of each fact: nothing here is read by the connector unless a real
//! server sends it too. Error bodies are `{"message", "details"?, "status": 0}`.
//!
//! This module holds what every route shares (the connected server, the
//! session check, errors, the router); [`elements`] answers sessions, entry
//! points and elements, [`ha`] the HA reads, [`actions`] the HA actions.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde_json::json;

mod actions;
mod elements;
mod ha;

use super::state::Shared;
use crate::cluster::{FailureKind, ServerSnapshot, SimError, Snapshot, Version};

/// The server a request is addressed to, set by the front.
#[derive(Debug, Clone)]
pub(super) struct Connected {
    /// The server's name.
    pub server: String,
    /// `http://HOST[/servers/NAME]`, the prefix of every href.
    pub base: String,
    /// The `Path` of the session cookie.
    pub cookie_path: String,
}

impl Connected {
    fn href(&self, version: &str, rest: &str) -> String {
        format!("{}/{version}/{rest}", self.base)
    }

    fn element_href(&self, version: &str, shared: &Shared, name: &str) -> Option<String> {
        shared
            .element_key(name)
            .map(|key| self.href(version, &format!("elements/mgt_server/{key}")))
    }
}

/// The primary IP address of a simulated server: documentation addresses
/// (RFC 5737), `192.0.2.10` for the first server. Only messages name them.
pub(crate) fn server_ip(snapshot: &Snapshot, name: &str) -> String {
    let index = snapshot
        .servers
        .iter()
        .position(|server| server.name == name)
        .unwrap_or(0);
    format!("192.0.2.{}", 10 + index)
}

/// `NAME@IP`, as the product's messages name a server.
fn name_at(snapshot: &Snapshot, name: &str) -> String {
    format!("{name}@{}", server_ip(snapshot, name))
}

/// The API versions a server offers: each SMC version offers three, its own
/// `MAJOR.MINOR` and the two before it.
pub(crate) fn offered_api_versions(version: &Version) -> Vec<String> {
    let parts = version.parts();
    let major = parts.first().copied().unwrap_or(7);
    let minor = parts.get(1).copied().unwrap_or(0);
    (0..3)
        .rev()
        .filter_map(|back| minor.checked_sub(back))
        .map(|minor| format!("{major}.{minor}"))
        .collect()
}

/// An error answer: `{"message", "details", "status": 0}` (`details` only
/// when there are any, as the product does).
pub(super) fn error_response(
    status: StatusCode,
    message: String,
    details: Vec<String>,
) -> Response {
    let mut body = json!({ "message": message, "status": 0 });
    if !details.is_empty() {
        body["details"] = json!(details);
    }
    (status, Json(body)).into_response()
}

/// An error a handler returns.
pub(super) struct ApiError {
    status: StatusCode,
    message: String,
    details: Vec<String>,
    failure: Option<FailureKind>,
}

impl ApiError {
    pub(super) fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError {
            status,
            message: message.into(),
            details: Vec::new(),
            failure: None,
        }
    }

    fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "Resource not found")
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self.failure {
            None => error_response(self.status, self.message, self.details),
            // Only the simulator's own console routes send `failure`.
            Some(failure) => (
                self.status,
                Json(json!({
                    "message": self.message,
                    "details": self.details,
                    "status": 0,
                    "failure": failure,
                })),
            )
                .into_response(),
        }
    }
}

/// How a model error answers on the simulator's own routes: refused → 400,
/// failed → 422 with `failure`, unreachable → 504, stopped → 409, unknown → 404.
impl From<SimError> for ApiError {
    fn from(error: SimError) -> Self {
        let message = error.to_string();
        match error {
            SimError::Refused { details, .. } => ApiError {
                details,
                ..ApiError::bad_request(message)
            },
            SimError::Failed { kind, .. } => ApiError {
                failure: Some(kind),
                ..ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, message)
            },
            SimError::Unreachable { .. } => ApiError::new(StatusCode::GATEWAY_TIMEOUT, message),
            SimError::Stopped { .. } => ApiError::new(StatusCode::CONFLICT, message),
            SimError::UnknownServer { .. } => ApiError::new(StatusCode::NOT_FOUND, message),
        }
    }
}

/// How a model error answers on a product route: the product refuses an HA
/// action with 400 and a message; a server the action needs does not
/// answer: 504 once the simulator's wait is over (the product's exact
/// answer there is not published — this project's choice).
fn refused(error: SimError) -> ApiError {
    let message = error.to_string();
    if matches!(error, SimError::Unreachable { .. }) {
        return ApiError::new(StatusCode::GATEWAY_TIMEOUT, message);
    }
    let details = match error {
        SimError::Refused { details, .. } => details,
        _ => Vec::new(),
    };
    ApiError {
        details,
        ..ApiError::bad_request(message)
    }
}

type ApiResult = Result<Response, ApiError>;

pub(super) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/api", get(elements::versions))
        .route("/:version/login", post(elements::login))
        .route("/:version/logout", put(elements::logout))
        .route("/:version/api", get(elements::entry_points))
        .route("/:version/current_user", get(elements::current_user))
        .route("/:version/system", get(elements::system))
        .route("/:version/system/smc_version", get(elements::smc_version))
        .route("/:version/elements", get(elements::elements))
        .route("/:version/elements/mgt_server", get(elements::mgt_servers))
        .route(
            "/:version/elements/mgt_server/:key",
            get(elements::mgt_server),
        )
        .route(
            "/:version/elements/api_client/:key",
            get(elements::api_client),
        )
        .route("/:version/ha", get(ha::ha))
        .route("/:version/ha/diagnostic", get(ha::diagnostic))
        .route(
            "/:version/ha/all_servers_replication_states",
            get(ha::replication_states),
        )
        .route(
            "/:version/ha/database_replication_diagnostic",
            get(ha::database_replication_diagnostic),
        )
        .route(
            "/:version/ha/audit_replication_diagnostic",
            get(ha::audit_replication_diagnostic),
        )
        .route("/:version/ha/:action", post(actions::ha_action))
        .fallback(|| async { ApiError::not_found() })
        .method_not_allowed_fallback(|| async {
            ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "Method not allowed")
        })
        .with_state(shared)
}

/// The connected server in the model's observed snapshot.
fn connected_server<'s>(
    snapshot: &'s Snapshot,
    connected: &Connected,
) -> Option<&'s ServerSnapshot> {
    snapshot.server(&connected.server)
}

/// Checks that the connected server offers `version`.
fn check_version(shared: &Shared, connected: &Connected, version: &str) -> Result<(), ApiError> {
    let snapshot = shared.observed();
    let offered = connected_server(&snapshot, connected)
        .map(|server| offered_api_versions(&server.version))
        .unwrap_or_default();
    if offered.iter().any(|offered| offered == version) {
        Ok(())
    } else {
        Err(ApiError::not_found())
    }
}

fn session_token(headers: &HeaderMap) -> impl Iterator<Item = &str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().strip_prefix("JSESSIONID="))
}

/// A request on a live session, as every route but `/api` and `login`
/// needs: the API version is offered by the connected server and the
/// session cookie is valid there.
struct Session {
    shared: Arc<Shared>,
    connected: Connected,
    version: String,
}

#[async_trait]
impl FromRequestParts<Arc<Shared>> for Session {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, shared: &Arc<Shared>) -> Result<Self, ApiError> {
        let connected = parts
            .extensions
            .get::<Connected>()
            .cloned()
            .ok_or_else(|| {
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "The request did not come through the front",
                )
            })?;
        let Path(params) = Path::<HashMap<String, String>>::from_request_parts(parts, shared)
            .await
            .map_err(|rejection| ApiError::bad_request(rejection.body_text()))?;
        let version = params.get("version").cloned().unwrap_or_default();
        check_version(shared, &connected, &version)?;
        if !session_token(&parts.headers)
            .any(|token| shared.session_valid(token, &connected.server))
        {
            return Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "Not logged in or session expired.",
            ));
        }
        Ok(Session {
            shared: Arc::clone(shared),
            connected,
            version,
        })
    }
}

fn boolean(name: &str, value: Option<&str>) -> Result<bool, ApiError> {
    match value.map(str::to_ascii_lowercase).as_deref() {
        None | Some("false") => Ok(false),
        Some("true") => Ok(true),
        Some(other) => Err(ApiError::bad_request(format!(
            "Invalid value for parameter {name}: {other}"
        ))),
    }
}

fn seconds(name: &str, value: Option<&str>) -> Result<u64, ApiError> {
    value.map_or(Ok(0), |text| {
        text.parse().map_err(|_| {
            ApiError::bad_request(format!("Invalid value for parameter {name}: {text}"))
        })
    })
}
