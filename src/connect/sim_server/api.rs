//! The SMC-shaped REST routes of `sim serve`, relative to one server's API
//! root (the front strips `/servers/NAME`). Every error body is
//! `{"message", "details", "status"}`. See `docs/http-api.md`.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use axum::body::Body;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Extension, Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use super::state::Shared;
use super::API_VERSION;
use crate::cluster::{
    FailureKind, JobId, JobState, Mode, Operation, OperationOutput, SimError, Snapshot, Started,
    MUST_USE_ACTIVE,
};

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
    fn href(&self, rest: &str) -> String {
        format!("{}/{API_VERSION}/{rest}", self.base)
    }

    /// Whether the connected server is Active in `snapshot`.
    fn is_active(&self, snapshot: &Snapshot) -> bool {
        snapshot
            .server(&self.server)
            .is_some_and(|server| server.mode == Mode::Active)
    }

    fn element_href(&self, snapshot: &Snapshot, name: &str) -> Option<String> {
        element_key(snapshot, name).map(|key| self.href(&format!("elements/mgt_server/{key}")))
    }
}

/// The element key of a server: its position in the snapshot, from 10.
fn element_key(snapshot: &Snapshot, name: &str) -> Option<usize> {
    snapshot
        .servers
        .iter()
        .position(|server| server.name == name)
        .map(|index| index + 10)
}

/// An error answer: `{"message", "details", "status"}`.
pub(super) fn error_response(
    status: StatusCode,
    message: String,
    details: Vec<String>,
) -> Response {
    (
        status,
        Json(json!({ "message": message, "details": details, "status": status.as_u16() })),
    )
        .into_response()
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
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self.failure {
            None => error_response(self.status, self.message, self.details),
            Some(failure) => (
                self.status,
                Json(json!({
                    "message": self.message,
                    "details": self.details,
                    "status": self.status.as_u16(),
                    "failure": failure,
                })),
            )
                .into_response(),
        }
    }
}

/// How a model error answers over HTTP: refused → 400 with the product's
/// message, failed → 422, unreachable → 504, stopped → 409, unknown → 404.
impl From<SimError> for ApiError {
    fn from(error: SimError) -> Self {
        let message = error.to_string();
        match error {
            SimError::Refused { details, .. } => ApiError {
                status: StatusCode::BAD_REQUEST,
                message,
                details,
                failure: None,
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

type ApiResult = Result<Response, ApiError>;

pub(super) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/api", get(versions))
        .route("/:version/login", post(login))
        .route("/:version/logout", put(logout))
        .route("/:version/api", get(entry_points))
        .route("/:version/elements", get(elements))
        .route("/:version/elements/mgt_server", get(mgt_servers))
        .route("/:version/elements/mgt_server/:key", get(mgt_server))
        .route("/:version/ha", get(ha))
        .route("/:version/ha/diagnostic", get(diagnostic))
        .route(
            "/:version/ha/all_servers_replication_states",
            get(replication_states),
        )
        .route(
            "/:version/ha/database_replication_diagnostic",
            get(database_replication_diagnostic),
        )
        .route("/:version/ha/operations/:id", get(operation_progress))
        .route("/:version/ha/:action", post(ha_action))
        .fallback(|| async {
            ApiError::new(StatusCode::NOT_FOUND, "No such resource in the SMC API")
        })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "This resource does not accept that method; see the `method` of its entry point or link",
            )
        })
        .with_state(shared)
}

fn check_version(version: &str) -> Result<(), ApiError> {
    if version == API_VERSION {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::NOT_FOUND,
            format!("API version {version} is not supported; GET /api lists the versions"),
        ))
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

/// Checks the version and that the request carries a live session on the
/// connected server.
fn authorize(
    shared: &Shared,
    connected: &Connected,
    version: &str,
    headers: &HeaderMap,
) -> Result<(), ApiError> {
    check_version(version)?;
    if session_token(headers).any(|token| shared.session_valid(token, &connected.server)) {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "Not logged in or session expired: log in with POST /login first",
        ))
    }
}

/// A request on a live session, as every route but `/api` and `login`
/// needs: the API version is supported and the session cookie is valid on
/// the connected server (see [`authorize`]).
struct Session {
    shared: Arc<Shared>,
    connected: Connected,
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
            .map_err(|rejection| ApiError::new(StatusCode::BAD_REQUEST, rejection.body_text()))?;
        let version = params.get("version").map_or("", String::as_str);
        authorize(shared, &connected, version, &parts.headers)?;
        Ok(Session {
            shared: Arc::clone(shared),
            connected,
        })
    }
}

async fn versions(Extension(connected): Extension<Connected>) -> Response {
    Json(json!({
        "version": [{ "rel": API_VERSION, "href": connected.href("api") }]
    }))
    .into_response()
}

#[derive(Deserialize)]
struct LoginBody {
    authenticationkey: String,
}

async fn login(
    State(shared): State<Arc<Shared>>,
    Extension(connected): Extension<Connected>,
    Path(version): Path<String>,
    body: axum::body::Bytes,
) -> ApiResult {
    check_version(&version)?;
    let body: LoginBody = serde_json::from_slice(&body).map_err(|_| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "Login expects a JSON body {\"authenticationkey\": KEY}",
        )
    })?;
    if !shared.key_matches(&body.authenticationkey) {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "Login failed: the authentication key is not valid",
        ));
    }
    let token = shared.open_session(&connected.server);
    Ok(Response::builder()
        .status(StatusCode::OK)
        .header(
            header::SET_COOKIE,
            format!(
                "JSESSIONID={token}; Path={}; HttpOnly",
                connected.cookie_path
            ),
        )
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(
            json!({ "value": format!("Logged in to {}", connected.server) }).to_string(),
        ))
        .unwrap_or_default())
}

async fn logout(Session { shared, .. }: Session, headers: HeaderMap) -> ApiResult {
    for token in session_token(&headers) {
        shared.close_session(token);
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn entry_points(Session { connected, .. }: Session) -> ApiResult {
    let entry = |rel: &str, path: &str, method: &str| json!({ "rel": rel, "href": connected.href(path), "method": method });
    Ok(Json(json!({
        "entry_point": [
            entry("ha", "ha", "GET"),
            entry("elements", "elements", "GET"),
            entry("mgt_server", "elements/mgt_server", "GET"),
            entry("logout", "logout", "PUT"),
        ]
    }))
    .into_response())
}

async fn elements(Session { connected, .. }: Session) -> ApiResult {
    Ok(Json(json!({
        "result": [{ "rel": "mgt_server", "href": connected.href("elements/mgt_server") }]
    }))
    .into_response())
}

async fn mgt_servers(Session { shared, connected }: Session) -> ApiResult {
    let snapshot = shared.observed();
    let result: Vec<Value> = snapshot
        .servers
        .iter()
        .map(|server| {
            json!({ "name": server.name, "href": connected.element_href(&snapshot, &server.name), "type": "mgt_server" })
        })
        .collect();
    Ok(Json(json!({ "result": result })).into_response())
}

async fn mgt_server(
    Session { shared, connected }: Session,
    Path((_, key)): Path<(String, String)>,
) -> ApiResult {
    let snapshot = shared.observed();
    let server = key
        .parse::<usize>()
        .ok()
        .and_then(|key| key.checked_sub(10))
        .and_then(|index| snapshot.servers.get(index))
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                format!("No mgt_server element with key {key}"),
            )
        })?;
    Ok(Json(json!({
        "name": server.name,
        "key": element_key(&snapshot, &server.name),
        "ha_mode": server.mode,
        "version": server.version,
        "running": server.running,
        "config_revision": server.config_revision,
        "link": [{ "rel": "self", "href": connected.element_href(&snapshot, &server.name), "method": "GET" }],
    }))
    .into_response())
}

async fn ha(Session { shared, connected }: Session) -> ApiResult {
    let snapshot = shared.observed();
    let active = if connected.is_active(&snapshot) {
        Some(connected.server.clone())
    } else {
        snapshot.actives().next().map(|server| server.name.clone())
    };
    let standbys: Vec<String> = snapshot
        .standbys()
        .filter_map(|server| connected.element_href(&snapshot, &server.name))
        .collect();
    let link = |rel: &str, method: &str| json!({ "rel": rel, "href": connected.href(&format!("ha/{rel}")), "method": method });
    Ok(Json(json!({
        "active_server": active.and_then(|name| connected.element_href(&snapshot, &name)),
        "connected_server": connected.element_href(&snapshot, &connected.server),
        "standby_servers": standbys,
        "link": [
            link("set_active", "POST"),
            link("set_standby", "POST"),
            link("full_replication", "POST"),
            link("exclude", "POST"),
            link("stop_replication", "POST"),
            link("diagnostic", "GET"),
            link("all_servers_replication_states", "GET"),
            link("database_replication_diagnostic", "GET"),
        ],
    }))
    .into_response())
}

async fn diagnostic(Session { shared, connected }: Session) -> ApiResult {
    let output = shared.query(|simulator| {
        simulator.run(&Operation::Diagnostic {
            server: connected.server.clone(),
        })
    })?;
    let OperationOutput::Diagnostic { ok, messages } = output else {
        return Err(ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "The diagnostic returned no result",
        ));
    };
    let errors = messages
        .iter()
        .filter(|(_, lines)| !lines.is_empty())
        .count();
    let message: Vec<Value> = messages
        .iter()
        .map(|(title, lines)| json!({ "title": title, "type": "MGT", "message": lines }))
        .collect();
    Ok(Json(json!({
        "status": if ok { "OK" } else { "KO" },
        "execution_message": format!("Diagnostic executed on {}", connected.server),
        "errors_warnings": { "errors": if ok { 0 } else { errors }, "warnings": 0 },
        "message": message,
    }))
    .into_response())
}

async fn replication_states(Session { shared, connected }: Session) -> ApiResult {
    let output = shared.query(|simulator| {
        simulator.run(&Operation::ReplicationStates {
            server: connected.server.clone(),
        })
    })?;
    let OperationOutput::ReplicationStates { states } = output else {
        return Err(ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "The replication states returned no result",
        ));
    };
    let active_state = states
        .iter()
        .find(|(name, _)| *name == connected.server)
        .map(|(_, state)| state.reported());
    let standby_states: Vec<Value> = states
        .iter()
        .filter(|(name, _)| *name != connected.server)
        .map(|(name, state)| json!({ "server_name": name, "state": state.reported() }))
        .collect();
    Ok(Json(json!({
        "active_server_state": active_state,
        "standby_server_states": standby_states,
    }))
    .into_response())
}

async fn database_replication_diagnostic(Session { shared, connected }: Session) -> ApiResult {
    let snapshot = shared.observed();
    let own = snapshot.server(&connected.server);
    let servers: Vec<Value> = snapshot
        .servers
        .iter()
        .map(|server| {
            json!({
                "server_name": server.name,
                "state": server.replication.reported(),
                "excluded": server.excluded,
            })
        })
        .collect();
    Ok(Json(json!({
        "server_name": connected.server,
        "state": own.map(|server| server.replication.reported()),
        "excluded": own.map(|server| server.excluded),
        "servers": servers,
    }))
    .into_response())
}

async fn operation_progress(
    Session { shared, .. }: Session,
    Path((_, id)): Path<(String, String)>,
) -> ApiResult {
    let not_found = || {
        ApiError::new(
            StatusCode::NOT_FOUND,
            format!("No background operation {id}"),
        )
    };
    let number: u64 = id.parse().map_err(|_| not_found())?;
    let state = shared
        .read(|simulator| simulator.job(JobId(number)))
        .ok_or_else(not_found)?;
    Ok(Json(progress_json(&state)).into_response())
}

/// The progress body of a background operation.
pub(super) fn progress_json(state: &JobState) -> Value {
    match state {
        JobState::Running {
            phase, remaining, ..
        } => json!({
            "in_progress": true,
            "phase": phase.to_string(),
            "remaining_seconds": remaining.as_secs(),
        }),
        JobState::Finished(Ok(output)) => json!({
            "in_progress": false,
            "success": true,
            "value": "Operation finished",
            "output": output,
        }),
        JobState::Finished(Err(error)) => {
            let (details, failure) = match error {
                SimError::Refused { details, .. } => (details.clone(), None),
                SimError::Failed { kind, .. } => (Vec::new(), Some(*kind)),
                _ => (Vec::new(), None),
            };
            json!({
                "in_progress": false,
                "success": false,
                "message": error.to_string(),
                "details": details,
                "failure": failure,
            })
        }
    }
}

#[derive(Deserialize)]
struct ActionQuery {
    server_name: Option<String>,
    force: Option<String>,
}

/// The operation a `POST .../ha/ACTION` asks for, and whether it must be
/// issued on the Active.
fn action_operation(
    action: &str,
    server: String,
    force: bool,
) -> Result<(Operation, bool), ApiError> {
    Ok(match action {
        "set_active" if force => (Operation::ForceActivate { server }, false),
        "set_active" => (Operation::Activate { server }, true),
        "set_standby" => (Operation::SetStandby { server, force }, false),
        "full_replication" => (Operation::InitStandby { server }, true),
        "exclude" => (Operation::Exclude { server }, true),
        "stop_replication" => (Operation::StopReplication { server }, false),
        other => {
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                format!("No HA action `{other}`; see the `link` list of the ha resource"),
            ))
        }
    })
}

async fn ha_action(
    Session { shared, connected }: Session,
    Path((_, action)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
) -> ApiResult {
    let query = ActionQuery {
        server_name: query.get("server_name").cloned(),
        force: query.get("force").cloned(),
    };
    let force = match query.force.as_deref() {
        None | Some("false") => false,
        Some("true") => true,
        Some(other) => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                format!("force must be true or false, not `{other}`"),
            ))
        }
    };
    let server = query
        .server_name
        .filter(|name| !name.is_empty())
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "The server_name parameter is required",
            )
        })?;
    let (operation, on_active) = action_operation(&action, server, force)?;
    if on_active && !connected.is_active(&shared.observed()) {
        return Err(ApiError::new(StatusCode::BAD_REQUEST, MUST_USE_ACTIVE));
    }
    let started = shared.change(|simulator| simulator.start(&operation))?;
    Ok(match started {
        Started::Finished(_) => {
            Json(json!({ "value": format!("{operation}: done") })).into_response()
        }
        Started::Background(job) => Json(json!({
            "value": format!("{operation} in progress"),
            "progress": connected.href(&format!("ha/operations/{}", job.0)),
        }))
        .into_response(),
    })
}
