//! The HA reads: `/ha`, the diagnostic, the replication states and the
//! audit replication diagnostic, each as the connected server answers it.

use axum::extract::Query;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::{
    boolean, connected_server, name_at, refused, seconds, server_ip, ApiError, ApiResult,
    Connected, Session,
};
use crate::cluster::{
    Mode, Operation, OperationOutput, ReplicationState, ServerSnapshot, Snapshot,
};

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

pub(super) async fn ha(session: Session) -> ApiResult {
    let snapshot = session.shared.observed();
    let href = |name: &str| {
        session
            .connected
            .element_href(&session.version, &session.shared, name)
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
pub(super) struct DiagnosticQuery {
    deep: Option<String>,
    exclude_info: Option<String>,
    global_timeout: Option<String>,
    server_timeout: Option<String>,
}

pub(super) async fn diagnostic(
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
            let key = shared.element_key(title).unwrap_or(0);
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
                    shared.element_key(&active.name).unwrap_or(0)
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

pub(super) async fn replication_states(
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

pub(super) async fn database_replication_diagnostic(
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
                shared.element_key(&server.name).unwrap_or(0)
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
            let key = shared.element_key(&standby.name).unwrap_or(0);
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

pub(super) async fn audit_replication_diagnostic(
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
