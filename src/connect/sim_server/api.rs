//! The product routes of `sim serve`, relative to one server's API root (the
//! front strips `/servers/NAME`). They answer what a real Management Server
//! answers, field for field, as `docs/smc-api-facts.md` lists with the public
//! source of each fact: nothing here is read by the connector unless a real
//! server sends it too. Error bodies are `{"message", "details"?, "status": 0}`.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use axum::body::{Body, Bytes};
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Extension, Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use super::state::Shared;
use crate::cluster::{
    FailureKind, Mode, Operation, OperationOutput, ReplicationState, ServerSnapshot, SimError,
    Snapshot, Version,
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
    fn href(&self, version: &str, rest: &str) -> String {
        format!("{}/{version}/{rest}", self.base)
    }

    fn element_href(&self, version: &str, snapshot: &Snapshot, name: &str) -> Option<String> {
        element_key(snapshot, name)
            .map(|key| self.href(version, &format!("elements/mgt_server/{key}")))
    }
}

/// The internal key of a server's element: its position in the cluster, from 10
/// (the first Management Server of a real setup has key 10).
pub(crate) fn element_key(snapshot: &Snapshot, name: &str) -> Option<usize> {
    snapshot
        .servers
        .iter()
        .position(|server| server.name == name)
        .map(|index| index + 10)
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
        .route("/api", get(versions))
        .route("/:version/login", post(login))
        .route("/:version/logout", put(logout))
        .route("/:version/api", get(entry_points))
        .route("/:version/current_user", get(current_user))
        .route("/:version/system", get(system))
        .route("/:version/system/smc_version", get(smc_version))
        .route("/:version/elements", get(elements))
        .route("/:version/elements/mgt_server", get(mgt_servers))
        .route("/:version/elements/mgt_server/:key", get(mgt_server))
        .route("/:version/elements/api_client/:key", get(api_client))
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
        .route(
            "/:version/ha/audit_replication_diagnostic",
            get(audit_replication_diagnostic),
        )
        .route("/:version/ha/:action", post(ha_action))
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

async fn versions(
    State(shared): State<Arc<Shared>>,
    Extension(connected): Extension<Connected>,
) -> ApiResult {
    let snapshot = shared.observed();
    let server = connected_server(&snapshot, &connected).ok_or_else(ApiError::not_found)?;
    let versions: Vec<Value> = offered_api_versions(&server.version)
        .iter()
        .map(|version| json!({ "rel": version, "href": connected.href(version, "api") }))
        .collect();
    Ok(Json(json!({ "version": versions })).into_response())
}

/// The login body: an API client's key, and the administrative domain (the
/// Shared Domain when absent or null).
#[derive(Deserialize)]
struct LoginBody {
    authenticationkey: Option<String>,
    #[serde(default)]
    domain: Option<String>,
}

async fn login(
    State(shared): State<Arc<Shared>>,
    Extension(connected): Extension<Connected>,
    Path(version): Path<String>,
    body: Bytes,
) -> ApiResult {
    check_version(&shared, &connected, &version)?;
    let body: LoginBody = serde_json::from_slice(&body).map_err(|_| {
        ApiError::bad_request("Login expects a JSON body {\"authenticationkey\": KEY}")
    })?;
    let key_ok = body
        .authenticationkey
        .as_deref()
        .is_some_and(|key| shared.key_matches(key));
    let domain_ok = body
        .domain
        .as_deref()
        .is_none_or(|domain| domain.is_empty() || domain == "Shared Domain");
    if !key_ok || !domain_ok {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "Login failed: invalid authentication key or domain.",
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
        .body(Body::empty())
        .unwrap_or_default())
}

async fn logout(Session { shared, .. }: Session, headers: HeaderMap) -> ApiResult {
    for token in session_token(&headers) {
        shared.close_session(token);
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn entry_points(session: Session) -> ApiResult {
    let entry = |rel: &str, path: &str, method: &str| json!({ "rel": rel, "href": session.connected.href(&session.version, path), "method": method });
    Ok(Json(json!({
        "entry_point": [
            entry("login", "login", "POST"),
            entry("logout", "logout", "PUT"),
            entry("current_user", "current_user", "GET"),
            entry("system", "system", "GET"),
            entry("elements", "elements", "GET"),
            entry("mgt_server", "elements/mgt_server", "GET"),
            entry("ha", "ha", "GET"),
        ]
    }))
    .into_response())
}

/// The API client the key belongs to (one per simulator).
async fn current_user(session: Session) -> ApiResult {
    Ok(Json(json!({
        "value": session.connected.href(&session.version, "elements/api_client/1")
    }))
    .into_response())
}

async fn api_client(session: Session, Path((_, key)): Path<(String, String)>) -> ApiResult {
    if key != "1" {
        return Err(ApiError::not_found());
    }
    let href = session
        .connected
        .href(&session.version, "elements/api_client/1");
    Ok(Json(json!({
        "name": "runbook",
        "key": 1,
        "enabled": true,
        "superuser": true,
        "allowed_to_login_in_shared": true,
        "permissions": { "permission": [] },
        "read_only": false,
        "system": false,
        "link": element_links(&href, "api_client"),
    }))
    .into_response())
}

/// An element's links, as real elements carry them: `self` with its
/// `type`, then `export` and `search_category_tags_from_element`.
fn element_links(href: &str, kind: &str) -> Value {
    json!([
        { "href": href, "rel": "self", "type": kind },
        { "href": format!("{href}/export"), "rel": "export" },
        { "href": format!("{href}/search_category_tags_from_element"), "rel": "search_category_tags_from_element" },
    ])
}

async fn system(session: Session) -> ApiResult {
    let href = |rest: &str| session.connected.href(&session.version, rest);
    Ok(Json(json!({
        "link": [
            { "href": href("system"), "rel": "self", "type": "system" },
            { "href": href("system/smc_version"), "rel": "smc_version" },
        ]
    }))
    .into_response())
}

async fn smc_version(
    Session {
        shared, connected, ..
    }: Session,
) -> ApiResult {
    let snapshot = shared.observed();
    let server = connected_server(&snapshot, &connected).ok_or_else(ApiError::not_found)?;
    let build = 10_000
        + server
            .version
            .parts()
            .iter()
            .fold(0, |sum, part| sum * 10 + part);
    Ok(Json(json!({ "value": format!("{} [{build}]", server.version) })).into_response())
}

fn element_summary(session: &Session, snapshot: &Snapshot, server: &ServerSnapshot) -> Value {
    json!({
        "href": session.connected.element_href(&session.version, snapshot, &server.name),
        "name": server.name,
        "type": "mgt_server",
    })
}

async fn elements(session: Session) -> ApiResult {
    let snapshot = session.shared.observed();
    let result: Vec<Value> = snapshot
        .servers
        .iter()
        .map(|server| element_summary(&session, &snapshot, server))
        .collect();
    Ok(Json(json!({ "result": result })).into_response())
}

async fn mgt_servers(session: Session) -> ApiResult {
    elements(session).await
}

async fn mgt_server(session: Session, Path((_, key)): Path<(String, String)>) -> ApiResult {
    let snapshot = session.shared.observed();
    let server = key
        .parse::<usize>()
        .ok()
        .and_then(|key| key.checked_sub(10))
        .and_then(|index| snapshot.servers.get(index))
        .ok_or_else(ApiError::not_found)?;
    let href = session
        .connected
        .element_href(&session.version, &snapshot, &server.name);
    Ok(Json(json!({
        "name": server.name,
        "key": element_key(&snapshot, &server.name),
        "address": server_ip(&snapshot, &server.name),
        "secondary": [],
        "read_only": false,
        "system": false,
        "link": element_links(href.as_deref().unwrap_or_default(), "mgt_server"),
    }))
    .into_response())
}

/// The Active the connected server knows: itself when Active; else the
/// server declared Active (the running one declared in replication first);
/// none when no server is declared Active (after a forced set standby, or
/// when the product set every server Standby after split brain).
fn known_active<'s>(snapshot: &'s Snapshot, connected: &Connected) -> Option<&'s ServerSnapshot> {
    if let Some(own) = snapshot.server(&connected.server) {
        if own.mode == Mode::Active {
            return Some(own);
        }
    }
    let declared = || {
        snapshot
            .servers
            .iter()
            .filter(|server| server.mode == Mode::Active)
    };
    declared()
        .find(|server| server.running && !server.excluded)
        .or_else(|| declared().next())
}

async fn ha(session: Session) -> ApiResult {
    let snapshot = session.shared.observed();
    let href = |name: &str| {
        session
            .connected
            .element_href(&session.version, &snapshot, name)
    };
    let standbys: Vec<String> = snapshot
        .standbys()
        .filter_map(|server| href(&server.name))
        .collect();
    let mut body = json!({
        "connected_server": href(&session.connected.server),
        "standby_servers": standbys,
    });
    if let Some(active) = known_active(&snapshot, &session.connected) {
        body["active_server"] = json!(href(&active.name));
    }
    Ok(Json(body).into_response())
}

/// The diagnostic's query parameters (all optional, as in the product).
#[derive(Deserialize)]
struct DiagnosticQuery {
    deep: Option<String>,
    exclude_info: Option<String>,
    global_timeout: Option<String>,
    server_timeout: Option<String>,
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

async fn diagnostic(
    Session {
        shared, connected, ..
    }: Session,
    Query(query): Query<DiagnosticQuery>,
) -> ApiResult {
    boolean("deep", query.deep.as_deref())?;
    let exclude_info = boolean("exclude_info", query.exclude_info.as_deref())?;
    seconds("global_timeout", query.global_timeout.as_deref())?;
    seconds("server_timeout", query.server_timeout.as_deref())?;
    let snapshot = shared.observed();
    let output = shared
        .query(|simulator| {
            simulator.run(&Operation::Diagnostic {
                server: connected.server.clone(),
            })
        })
        .map_err(refused)?;
    let OperationOutput::Diagnostic { ok, messages } = output else {
        return Err(ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "The diagnostic returned no result",
        ));
    };
    let active = known_active(&snapshot, &connected);
    let lost: Vec<&str> = snapshot
        .servers
        .iter()
        .filter(|server| !server.running)
        .map(|server| server.name.as_str())
        .collect();
    let mut issues = Vec::new();
    let blocks: Vec<Value> = messages
        .iter()
        .map(|(title, model_lines)| {
            let ip = server_ip(&snapshot, title);
            let key = element_key(&snapshot, title).unwrap_or(0);
            let running = snapshot.server(title).is_some_and(|server| server.running);
            let mut lines = Vec::new();
            if !exclude_info {
                lines.push(format!("    Primary IP address:{ip} / IP address in configuration: {ip} / IP address detected by Java runtime: {ip}"));
                lines.push("    Secondary IP addresses: ".to_owned());
                lines.push(format!("    Contact IP addresses: Default:{ip} "));
                lines.push("    License: 2030-12-31".to_owned());
            }
            if let Some(active) = active {
                lines.push(format!(
                    "    Active Management Server: {} ({})",
                    active.name,
                    element_key(&snapshot, &active.name).unwrap_or(0)
                ));
            }
            if running && !lost.is_empty() {
                lines.push(format!(
                    " -!-  Connection with Management Server \"{}\" lost.",
                    lost.join(" ")
                ));
            }
            // The model's own lines: the replication state and, after split
            // brain, the monitoring alert (text invented by this project,
            // see docs/smc-api-facts.md).
            lines.extend(model_lines.iter().cloned());
            lines.push(format!(
                "    Login status: {}  - internal server key {key} - Management IP addresses: {ip}",
                if running { "OK" } else { "KO" }
            ));
            issues.extend(
                model_lines
                    .iter()
                    .filter(|line| !line.starts_with("[ACT_REP]") && !line.starts_with("[STB_REP]"))
                    .map(|line| format!("{title}: {}", line.trim())),
            );
            json!({ "title": title, "type": "MGT", "message": lines })
        })
        .collect();
    let title = if ok && issues.is_empty() {
        "No issues were detected while running the diagnostic.".to_owned()
    } else {
        "Issues detected (Action needed)".to_owned()
    };
    Ok(Json(json!({
        "status": if ok { "OK" } else { "KO" },
        "execution_message": [format!("Diagnostic executed on {}.", connected.server)],
        "errors_warnings": { "title": title, "message": issues },
        "durations": {
            "title": "Durations",
            "message": snapshot.servers.iter().map(|server| format!("{}: {} ms", server.name, if server.running { 120 } else { 0 })).collect::<Vec<_>>(),
        },
        "message": blocks,
    }))
    .into_response())
}

async fn replication_states(
    Session {
        shared, connected, ..
    }: Session,
) -> ApiResult {
    let snapshot = shared.observed();
    let own = connected_server(&snapshot, &connected).ok_or_else(ApiError::not_found)?;
    if !own.version.has_all_servers_replication_states() {
        return Err(ApiError::not_found());
    }
    if own.mode != Mode::Active {
        return Err(ApiError::bad_request(format!(
            "You must use the active Management Server to request this action for Management Server {}.",
            name_at(&snapshot, &connected.server)
        )));
    }
    // What the Active knows of every server (the model's answer).
    let output = shared
        .query(|simulator| {
            simulator.run(&Operation::ReplicationStates {
                server: connected.server.clone(),
            })
        })
        .map_err(refused)?;
    let OperationOutput::ReplicationStates { states } = output else {
        return Err(ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "The replication states returned no result",
        ));
    };
    let state_of = |name: &str| {
        states
            .iter()
            .find(|(server, _)| server == name)
            .map_or(ReplicationState::Unknown, |(_, state)| *state)
    };
    let standby_states: Vec<Value> = snapshot
        .servers
        .iter()
        .filter(|server| server.name != connected.server)
        .map(|server| json!({ "server_name": server.name, "state": state_of(&server.name).reported() }))
        .collect();
    Ok(Json(json!({
        "active_server_state": state_of(&connected.server).reported(),
        "standby_server_states": standby_states,
    }))
    .into_response())
}

async fn database_replication_diagnostic(
    Session {
        shared, connected, ..
    }: Session,
) -> ApiResult {
    let snapshot = shared.observed();
    let own = connected_server(&snapshot, &connected).ok_or_else(ApiError::not_found)?;
    let servers = snapshot
        .servers
        .iter()
        .map(|server| {
            format!(
                "{} ({})",
                server.name,
                element_key(&snapshot, &server.name).unwrap_or(0)
            )
        })
        .collect::<Vec<_>>()
        .join(", ");
    let is_active = own.mode == Mode::Active;
    let streaming: Vec<&ServerSnapshot> = if is_active {
        snapshot
            .servers
            .iter()
            .filter(|server| {
                server.name != own.name && server.replication == ReplicationState::StbRep
            })
            .collect()
    } else {
        Vec::new()
    };
    let registered = if is_active {
        snapshot
            .servers
            .iter()
            .filter(|server| server.name != own.name && !server.excluded)
            .count()
    } else {
        0
    };
    let publications: Vec<String> = streaming
        .iter()
        .map(|standby| {
            let key = element_key(&snapshot, &standby.name).unwrap_or(0);
            format!(
                "[PG-PUB|-->{}  on port {}|sub_smc{key}|pid:{}|Since:2026-01-01 00:00:00+0000",
                server_ip(&snapshot, &standby.name),
                50_000 + key,
                200_000 + key
            )
        })
        .collect();
    let subscribed = !is_active && own.replication == ReplicationState::StbRep;
    Ok(Json(json!({
        "server_name": own.name,
        "valid_license": true,
        "servers": format!("[{servers}]"),
        "state": own.replication.reported(),
        "table_count": "371",
        "element_count": "1428",
        "active_server_publication": is_active,
        "standby_server_registered": registered.to_string(),
        "active_replication_streaming": streaming.len().to_string(),
        "active_replication_to_standby_servers": publications,
        "standby_replication_subscription": if subscribed { "1" } else { "0" },
    }))
    .into_response())
}

async fn audit_replication_diagnostic(
    Session {
        shared, connected, ..
    }: Session,
) -> ApiResult {
    let snapshot = shared.observed();
    let own = connected_server(&snapshot, &connected).ok_or_else(ApiError::not_found)?;
    let (state, info) = if own.mode == Mode::Active {
        ("Listening", "Active server mode has been enabled")
    } else {
        ("Connected", "Standby server mode has been enabled")
    };
    let now = shared.read(|simulator| simulator.now());
    Ok(Json(json!({
        "server_name": own.name,
        "status": true,
        "last_error": if own.mode == Mode::Active { "Active server - listening" } else { "Standby server - connected" },
        "state": state,
        "last_update": 1_767_225_600_000_u64 + u64::try_from(now.as_millis()).unwrap_or(0),
        "info": info,
        "input_files_count": 3,
        "output_files_count": 10,
    }))
    .into_response())
}

const MISSING_SERVER: &str = "Missing management server parameter: provide management server using either server URI, either server name, either primary IP V4 address.";

/// The server an action names: exactly one of `server_name`, `server_ip`
/// or a payload with the element's href; `None` when none is given.
fn action_target(
    snapshot: &Snapshot,
    query: &HashMap<String, String>,
    body: &Bytes,
) -> Result<Option<String>, ApiError> {
    let mut named = Vec::new();
    if let Some(name) = query.get("server_name").filter(|name| !name.is_empty()) {
        named.push(
            snapshot
                .server(name)
                .map(|server| server.name.clone())
                .ok_or_else(|| {
                    ApiError::bad_request(format!("Management Server {name} not found."))
                })?,
        );
    }
    if let Some(ip) = query.get("server_ip").filter(|ip| !ip.is_empty()) {
        named.push(
            snapshot
                .servers
                .iter()
                .find(|server| server_ip(snapshot, &server.name) == *ip)
                .map(|server| server.name.clone())
                .ok_or_else(|| {
                    ApiError::bad_request(format!("No Management Server with IP address {ip}."))
                })?,
        );
    }
    if !body.iter().all(u8::is_ascii_whitespace) {
        let payload: Value = serde_json::from_slice(body).map_err(|_| {
            ApiError::bad_request("The payload is not a Management Server reference.")
        })?;
        let href = payload
            .as_str()
            .or_else(|| payload.get("href").and_then(Value::as_str))
            .ok_or_else(|| {
                ApiError::bad_request("The payload is not a Management Server reference.")
            })?;
        let key = href
            .rsplit('/')
            .next()
            .and_then(|key| key.parse::<usize>().ok())
            .and_then(|key| key.checked_sub(10));
        named.push(
            key.and_then(|index| snapshot.servers.get(index))
                .filter(|_| href.contains("/elements/mgt_server/"))
                .map(|server| server.name.clone())
                .ok_or_else(|| {
                    ApiError::bad_request(format!("{href} is not a Management Server reference."))
                })?,
        );
    }
    match named.len() {
        0 => Ok(None),
        1 => Ok(named.pop()),
        _ => Err(ApiError::bad_request(MISSING_SERVER.replace(
            "Missing management server parameter: provide",
            "Ambiguous management server: provide only one",
        ))),
    }
}

async fn ha_action(
    Session {
        shared, connected, ..
    }: Session,
    Path((_, action)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult {
    if !matches!(
        action.as_str(),
        "set_active" | "set_standby" | "full_replication" | "exclude"
    ) {
        return Err(ApiError::not_found());
    }
    let json_content = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("application/json"));
    if !json_content {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Unsupported Media Type: send Content-Type: application/json",
        ));
    }
    let force = boolean("force", query.get("force").map(String::as_str))?;
    let snapshot = shared.observed();
    let target = action_target(&snapshot, &query, &body)?;
    let connected_active =
        connected_server(&snapshot, &connected).is_some_and(|server| server.mode == Mode::Active);
    let must_use_active = |name: &str| {
        ApiError::bad_request(format!(
            "You must use the active Management Server to request this action for Management Server {}.",
            name_at(&snapshot, name)
        ))
    };
    let is_active = |name: &str| {
        snapshot
            .server(name)
            .is_some_and(|server| server.mode == Mode::Active)
    };
    let (operation, value) = match action.as_str() {
        "set_active" => {
            let target = target.unwrap_or_else(|| connected.server.clone());
            if is_active(&target) {
                return Err(ApiError::bad_request(format!(
                    "Management Server {} is already the active Management Server.",
                    name_at(&snapshot, &target)
                )));
            }
            let active_running = snapshot.actives().next().is_some();
            if force || !active_running {
                (
                    Operation::ForceActivate {
                        server: target.clone(),
                    },
                    format!("Set Active {target} in progress"),
                )
            } else {
                (
                    Operation::Activate {
                        server: target.clone(),
                    },
                    format!("Switch Active Server to {target}:  waiting for server statuses to be polled at least once. in progress"),
                )
            }
        }
        "set_standby" => {
            let target = target.unwrap_or_else(|| connected.server.clone());
            if is_active(&target) && !force {
                return Err(ApiError {
                    details: vec!["Replication Failed: Setting standby the active server without switching control to another server will interrupt the replication. Use force mode to verify the action.".to_owned()],
                    ..ApiError::bad_request("Impossible to retrieve HA management information.")
                });
            }
            (
                Operation::SetStandby {
                    server: target.clone(),
                    force: true,
                },
                format!(
                    "Deactivation of Management Server {} requested.",
                    name_at(&snapshot, &target)
                ),
            )
        }
        "full_replication" => {
            let target = target.ok_or_else(|| ApiError::bad_request(MISSING_SERVER))?;
            if !connected_active {
                return Err(must_use_active(&target));
            }
            if is_active(&target) {
                return Err(ApiError::bad_request(format!(
                    "Full replication of active Management Server {} is invalid.",
                    name_at(&snapshot, &target)
                )));
            }
            (
                Operation::InitStandby {
                    server: target.clone(),
                },
                format!(
                    "Replication of Management Server {} requested.",
                    name_at(&snapshot, &target)
                ),
            )
        }
        _ => {
            let target = target.ok_or_else(|| ApiError::bad_request(MISSING_SERVER))?;
            if is_active(&target) {
                return Err(ApiError::bad_request(format!(
                    "The active Management Server {} cannot be excluded from replication.",
                    name_at(&snapshot, &target)
                )));
            }
            if !connected_active {
                return Err(must_use_active(&target));
            }
            let connected_version =
                connected_server(&snapshot, &connected).map(|server| server.version.clone());
            let offline = snapshot
                .server(&target)
                .is_some_and(|server| !server.running);
            if offline
                && connected_version
                    .as_ref()
                    .is_some_and(Version::has_smc_65140)
            {
                // SMC-65140 (published known issue): the API cannot exclude an
                // offline Standby on these versions. The message is ours.
                return Err(ApiError::bad_request(format!(
                    "Exclusion from replication of Management Server {} failed: the server is not running.",
                    name_at(&snapshot, &target)
                )));
            }
            (
                Operation::Exclude {
                    server: target.clone(),
                },
                format!(
                    "Exclusion from replication of Management Server {} requested.",
                    name_at(&snapshot, &target)
                ),
            )
        }
    };
    shared
        .change(|simulator| simulator.start(&operation))
        .map_err(refused)?;
    Ok(Json(json!({ "value": value })).into_response())
}
