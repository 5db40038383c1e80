//! Sessions, entry points, the SMC version and the elements: what a client
//! reads to log in and to name the servers an `/ha` answer points at.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Deserialize;
use serde_json::{json, Value};

use super::{
    check_version, connected_server, offered_api_versions, server_ip, session_token, ApiError,
    ApiResult, Connected, Session,
};
use crate::cluster::ServerSnapshot;
use crate::connect::sim_server::Shared;

pub(super) async fn versions(
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
pub(super) struct LoginBody {
    authenticationkey: Option<String>,
    #[serde(default)]
    domain: Option<String>,
}

pub(super) async fn login(
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

pub(super) async fn logout(Session { shared, .. }: Session, headers: HeaderMap) -> ApiResult {
    for token in session_token(&headers) {
        shared.close_session(token);
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub(super) async fn entry_points(session: Session) -> ApiResult {
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
pub(super) async fn current_user(session: Session) -> ApiResult {
    Ok(Json(json!({
        "value": session.connected.href(&session.version, "elements/api_client/1")
    }))
    .into_response())
}

pub(super) async fn api_client(
    session: Session,
    Path((_, key)): Path<(String, String)>,
) -> ApiResult {
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

pub(super) async fn system(session: Session) -> ApiResult {
    let href = |rest: &str| session.connected.href(&session.version, rest);
    Ok(Json(json!({
        "link": [
            { "href": href("system"), "rel": "self", "type": "system" },
            { "href": href("system/smc_version"), "rel": "smc_version" },
        ]
    }))
    .into_response())
}

pub(super) async fn smc_version(
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

fn element_summary(session: &Session, server: &ServerSnapshot) -> Value {
    json!({
        "href": session.connected.element_href(&session.version, &session.shared, &server.name),
        "name": server.name,
        "type": "mgt_server",
    })
}

pub(super) async fn elements(session: Session) -> ApiResult {
    let snapshot = session.shared.observed();
    let result: Vec<Value> = snapshot
        .servers
        .iter()
        .map(|server| element_summary(&session, server))
        .collect();
    Ok(Json(json!({ "result": result })).into_response())
}

pub(super) async fn mgt_servers(session: Session) -> ApiResult {
    elements(session).await
}

pub(super) async fn mgt_server(
    session: Session,
    Path((_, key)): Path<(String, String)>,
) -> ApiResult {
    let snapshot = session.shared.observed();
    let server = key
        .parse::<usize>()
        .ok()
        .and_then(|key| session.shared.element_named(key))
        .and_then(|name| snapshot.server(&name))
        .ok_or_else(ApiError::not_found)?;
    let href = session
        .connected
        .element_href(&session.version, &session.shared, &server.name);
    Ok(Json(json!({
        "name": server.name,
        "key": session.shared.element_key(&server.name),
        "address": server_ip(&snapshot, &server.name),
        "secondary": [],
        "read_only": false,
        "system": false,
        "link": element_links(href.as_deref().unwrap_or_default(), "mgt_server"),
    }))
    .into_response())
}
