//! The HA actions (`set_active`, `set_standby`, `full_replication`,
//! `exclude`): the target as the product takes it, the product's refusals,
//! and the change to the model.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, Query};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use serde_json::{json, Value};

use super::{
    boolean, connected_server, name_at, refused, server_ip, ApiError, ApiResult, Connected, Session,
};
use crate::cluster::{Mode, Operation, Snapshot, Version};
use crate::connect::sim_server::Shared;

const MISSING_SERVER: &str = "Missing management server parameter: provide management server using either server URI, either server name, either primary IP V4 address.";

/// The server an action names: exactly one of `server_name`, `server_ip`
/// or a payload with the element's href; `None` when none is given.
fn action_target(
    shared: &Shared,
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
            .and_then(|key| key.parse::<usize>().ok());
        named.push(
            key.and_then(|key| shared.element_named(key))
                .filter(|_| href.contains("/elements/mgt_server/"))
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

/// An HA action started on the simulator, and the message the product
/// answers with.
type Started = Result<(Operation, String), ApiError>;

/// Handles `POST .../ha/ACTION`: checks the request, then starts the action.
pub(super) async fn ha_action(
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
    require_json(&headers)?;
    let force = boolean("force", query.get("force").map(String::as_str))?;
    let snapshot = shared.observed();
    let target = action_target(&shared, &snapshot, &query, &body)?;
    let connected_active =
        connected_server(&snapshot, &connected).is_some_and(|server| server.mode == Mode::Active);
    let (operation, value) = match action.as_str() {
        "set_active" => set_active(&snapshot, target, &connected, force)?,
        "set_standby" => set_standby(&snapshot, target, &connected, force)?,
        "full_replication" => full_replication(&snapshot, target, connected_active)?,
        _ => exclude(&snapshot, target, &connected, connected_active)?,
    };
    shared
        .change(|simulator| simulator.start(&operation))
        .map_err(refused)?;
    Ok(Json(json!({ "value": value })).into_response())
}

/// Refuses a request whose payload is not declared as JSON.
fn require_json(headers: &HeaderMap) -> Result<(), ApiError> {
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
    Ok(())
}

/// The refusal of an action asked of a server other than the active one.
fn must_use_active(snapshot: &Snapshot, name: &str) -> ApiError {
    ApiError::bad_request(format!(
        "You must use the active Management Server to request this action for Management Server {}.",
        name_at(snapshot, name)
    ))
}

/// Whether the server `name` is the active one.
fn is_active(snapshot: &Snapshot, name: &str) -> bool {
    snapshot
        .server(name)
        .is_some_and(|server| server.mode == Mode::Active)
}

/// Handles `set_active`: a switch-over, or a forced activation.
fn set_active(
    snapshot: &Snapshot,
    target: Option<String>,
    connected: &Connected,
    force: bool,
) -> Started {
    let target = target.unwrap_or_else(|| connected.server.clone());
    if is_active(snapshot, &target) {
        return Err(ApiError::bad_request(format!(
            "Management Server {} is already the active Management Server.",
            name_at(snapshot, &target)
        )));
    }
    let active_running = snapshot.actives().next().is_some();
    if force || !active_running {
        Ok((
            Operation::ForceActivate {
                server: target.clone(),
            },
            format!("Set Active {target} in progress"),
        ))
    } else {
        Ok((
            Operation::Activate {
                server: target.clone(),
            },
            format!("Switch Active Server to {target}:  waiting for server statuses to be polled at least once. in progress"),
        ))
    }
}

/// Handles `set_standby`: refused on the active server unless forced.
fn set_standby(
    snapshot: &Snapshot,
    target: Option<String>,
    connected: &Connected,
    force: bool,
) -> Started {
    let target = target.unwrap_or_else(|| connected.server.clone());
    if is_active(snapshot, &target) && !force {
        return Err(ApiError {
            details: vec!["Replication Failed: Setting standby the active server without switching control to another server will interrupt the replication. Use force mode to verify the action.".to_owned()],
            ..ApiError::bad_request("Impossible to retrieve HA management information.")
        });
    }
    Ok((
        Operation::SetStandby {
            server: target.clone(),
            force: true,
        },
        format!(
            "Deactivation of Management Server {} requested.",
            name_at(snapshot, &target)
        ),
    ))
}

/// Handles `full_replication`: asked of the active server, for a standby.
fn full_replication(
    snapshot: &Snapshot,
    target: Option<String>,
    connected_active: bool,
) -> Started {
    let target = target.ok_or_else(|| ApiError::bad_request(MISSING_SERVER))?;
    if !connected_active {
        return Err(must_use_active(snapshot, &target));
    }
    if is_active(snapshot, &target) {
        return Err(ApiError::bad_request(format!(
            "Full replication of active Management Server {} is invalid.",
            name_at(snapshot, &target)
        )));
    }
    Ok((
        Operation::InitStandby {
            server: target.clone(),
        },
        format!(
            "Replication of Management Server {} requested.",
            name_at(snapshot, &target)
        ),
    ))
}

/// Handles `exclude`: asked of the active server, for a standby (a running
/// one, on versions with SMC-65140).
fn exclude(
    snapshot: &Snapshot,
    target: Option<String>,
    connected: &Connected,
    connected_active: bool,
) -> Started {
    let target = target.ok_or_else(|| ApiError::bad_request(MISSING_SERVER))?;
    if is_active(snapshot, &target) {
        return Err(ApiError::bad_request(format!(
            "The active Management Server {} cannot be excluded from replication.",
            name_at(snapshot, &target)
        )));
    }
    if !connected_active {
        return Err(must_use_active(snapshot, &target));
    }
    let connected_version =
        connected_server(snapshot, connected).map(|server| server.version.clone());
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
            name_at(snapshot, &target)
        )));
    }
    Ok((
        Operation::Exclude {
            server: target.clone(),
        },
        format!(
            "Exclusion from replication of Management Server {} requested.",
            name_at(snapshot, &target)
        ),
    ))
}
