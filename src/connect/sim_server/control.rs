//! The simulator-only routes under `/sim/`: console operations (stop,
//! start, installer, backup, restore), the cluster snapshot, the clock, and
//! the control of HTTP-level faults used by tests. Every route needs
//! `Authorization: Bearer KEY` with the simulator's API key.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::api::ApiError;
use super::state::Shared;
use super::TICK;
use crate::cluster::{JobState, Operation, OperationOutput, Started, Version};
use crate::connect::lease;

/// An HTTP-level fault: the next `count` requests whose path contains
/// `route` (any SMC route when empty) are answered with `kind`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HttpFault {
    /// A substring of the request path, e.g. `/ha/diagnostic`.
    #[serde(default)]
    pub route: String,
    /// What happens to the matching requests.
    pub kind: HttpFaultKind,
    /// How many requests it applies to.
    #[serde(default = "one", rename = "count")]
    pub remaining: u32,
}

fn one() -> u32 {
    1
}

/// What an HTTP-level fault does to a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum HttpFaultKind {
    /// Answer 500 with an error body.
    ServerError,
    /// Act at once, and answer `delay_ms` later (the action is done even
    /// when the client gave up waiting, as on a real server).
    Slow {
        /// The delay in milliseconds.
        delay_ms: u64,
    },
    /// Answer 200 with a body that is not JSON.
    MalformedJson,
    /// Close the connection without answering.
    CloseConnection,
    /// Answer 401 as if the session had expired.
    Unauthorized,
}

pub(super) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/sim/info", get(info))
        .route("/sim/cluster", get(cluster))
        .route("/sim/console/:server/:operation", post(console))
        .route(
            "/sim/control/http-fault",
            post(add_fault).delete(clear_faults),
        )
        .route("/sim/control/expire-sessions", post(expire_sessions))
        .route("/sim/control/advance", post(advance))
        .route("/sim/lease", get(lease_holder).post(take_lease))
        .route("/sim/lease/:token", put(renew_lease).delete(release_lease))
        .fallback(|| async { ApiError::new(StatusCode::NOT_FOUND, "No such simulator route") })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "This simulator route does not accept that method",
            )
        })
        .with_state(shared)
}

fn authorize(shared: &Shared, headers: &HeaderMap) -> Result<(), ApiError> {
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .unwrap_or("");
    if shared.key_matches(presented) {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "Simulator routes need the header `Authorization: Bearer KEY` with the simulator's API key",
        ))
    }
}

async fn info(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Result<Response, ApiError> {
    authorize(&shared, &headers)?;
    let origin = super::front::public_origin(&headers);
    let servers: Vec<_> = shared
        .snapshot()
        .servers
        .iter()
        .map(|server| json!({ "name": server.name, "api": format!("{origin}/servers/{}", server.name) }))
        .collect();
    let now = shared.read(|simulator| simulator.now());
    Ok(Json(json!({
        "speed": shared.speed(),
        "now_ms": u64::try_from(now.as_millis()).unwrap_or(u64::MAX),
        "servers": servers,
    }))
    .into_response())
}

/// `GET /sim/lease`: who holds the cluster (`null`: nobody).
async fn lease_holder(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    authorize(&shared, &headers)?;
    let holder = shared.lease_holder().map(|(holder, since)| {
        json!({
            "holder": holder,
            "renewed_seconds_ago": since.as_secs(),
            "stale": since >= shared.lease_stale_after(),
        })
    });
    Ok(Json(holder).into_response())
}

/// `POST /sim/lease`: a runner takes the cluster; 409 with the holder when
/// another runner has it.
async fn take_lease(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Json(request): Json<lease::LeaseRequest>,
) -> Result<Response, ApiError> {
    authorize(&shared, &headers)?;
    Ok(match shared.grant_lease(request) {
        Ok(granted) => Json(granted).into_response(),
        Err(refusal) => (StatusCode::CONFLICT, Json(refusal)).into_response(),
    })
}

/// `PUT /sim/lease/TOKEN`: the holder renews it; 404 when it is no longer
/// the lease held (taken over).
async fn renew_lease(
    State(shared): State<Arc<Shared>>,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    authorize(&shared, &headers)?;
    if shared.renew_lease(&token) {
        Ok(StatusCode::NO_CONTENT.into_response())
    } else {
        Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "This lease is no longer held: another runner took the cluster over",
        ))
    }
}

/// `DELETE /sim/lease/TOKEN`: the holder gives it back.
async fn release_lease(
    State(shared): State<Arc<Shared>>,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    authorize(&shared, &headers)?;
    shared.release_lease(&token);
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn cluster(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    authorize(&shared, &headers)?;
    Ok(Json(shared.snapshot()).into_response())
}

async fn console(
    State(shared): State<Arc<Shared>>,
    Path((server, operation)): Path<(String, String)>,
    Query(query): Query<std::collections::HashMap<String, String>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    authorize(&shared, &headers)?;
    let operation = match operation.as_str() {
        "stop" => Operation::StopServer { server },
        "start" => Operation::StartServer { server },
        "backup" => Operation::Backup { server },
        "restore" => Operation::RestoreBackup { server },
        "stop_replication" => Operation::StopReplication { server },
        "upgrade" => {
            let version: Version = query
                .get("version")
                .map(String::as_str)
                .ok_or_else(|| ApiError::new(StatusCode::BAD_REQUEST, "upgrade needs ?version=X.Y.Z"))?
                .parse()
                .map_err(|error: String| ApiError::new(StatusCode::BAD_REQUEST, error))?;
            Operation::Upgrade { server, version }
        }
        other => {
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                format!("No console operation `{other}`; use stop, start, upgrade, backup, restore or stop_replication"),
            ))
        }
    };
    let started = shared.change(|simulator| simulator.start(&operation))?;
    let output = match started {
        Started::Finished(output) => output,
        Started::Background(job) => wait_for(&shared, job).await?,
    };
    if matches!(operation, Operation::StopServer { .. }) {
        shared.drop_sessions_of(operation.server());
    }
    Ok(Json(json!({ "value": format!("{operation}: done"), "output": output })).into_response())
}

/// Waits (in real time, while the clock task advances the simulator) until
/// a background console operation has finished.
async fn wait_for(
    shared: &Shared,
    job: crate::cluster::JobId,
) -> Result<OperationOutput, ApiError> {
    let mut shutdown = shared.shutdown_watch();
    loop {
        match shared.read(|simulator| simulator.job(job)) {
            Some(JobState::Finished(result)) => {
                shared.save();
                return result.map_err(ApiError::from);
            }
            Some(JobState::Running { .. }) => {}
            None => {
                return Err(ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    format!("background operation {} disappeared", job.0),
                ))
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(TICK.max(Duration::from_millis(5))) => {}
            _ = shutdown.changed() => {
                return Err(ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "The simulator is shutting down"));
            }
        }
    }
}

async fn add_fault(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    authorize(&shared, &headers)?;
    let fault: HttpFault = serde_json::from_slice(&body).map_err(|error| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("expected {{\"route\": \"/ha/diagnostic\", \"kind\": {{\"type\": \"server-error\"}}, \"count\": 1}}: {error}"),
        )
    })?;
    shared.add_fault(fault);
    Ok(Json(json!({ "value": "fault armed" })).into_response())
}

async fn clear_faults(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    authorize(&shared, &headers)?;
    shared.clear_faults();
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn expire_sessions(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    authorize(&shared, &headers)?;
    let expired = shared.expire_sessions();
    Ok(Json(json!({ "expired": expired })).into_response())
}

/// The body of `POST /sim/control/advance`.
#[derive(Debug, Deserialize)]
struct Advance {
    /// Simulated seconds to let pass.
    seconds: u64,
}

/// Lets simulated time pass at once (a rehearsal of "the operator came back
/// an hour later"): background operations progress, time-driven faults fire.
async fn advance(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    authorize(&shared, &headers)?;
    let advance: Advance = serde_json::from_slice(&body).map_err(|error| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("expected {{\"seconds\": 3600}}: {error}"),
        )
    })?;
    // More than a year at once is a typo, not a rehearsal.
    if advance.seconds > 366 * 24 * 3600 {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "`seconds` is at most a year (31622400)",
        ));
    }
    let now = shared.advance(Duration::from_secs(advance.seconds));
    Ok(
        Json(json!({ "now_ms": u64::try_from(now.as_millis()).unwrap_or(u64::MAX) }))
            .into_response(),
    )
}
