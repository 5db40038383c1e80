//! The front of `sim serve`: accepts connections, decides which simulated
//! server a request is addressed to, plays HTTP-level faults and the silence
//! of stopped or unreachable servers, and shuts down gracefully.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{header, Request, Response, StatusCode, Uri};
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower::ServiceExt;

use super::api::{error_response, Connected};
use super::control::HttpFaultKind;
use super::state::Shared;
use super::{api, control};

/// Returned by the front service to make hyper close the connection without
/// an answer: how a stopped server (or the `close-connection` fault) looks
/// from the client.
#[derive(Debug)]
pub(super) struct Silence;

impl std::fmt::Display for Silence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the simulated server answers nothing")
    }
}

impl std::error::Error for Silence {}

/// Accepts connections until shutdown, then lets requests in flight finish.
pub(super) async fn accept_loop(
    listener: TcpListener,
    shared: Arc<Shared>,
    mut shutdown: watch::Receiver<bool>,
) {
    let api = api::router(shared.clone());
    let control = control::router(shared.clone());
    let graceful = GracefulShutdown::new();
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(_) => {
                    // Out of file descriptors or similar: wait instead of spinning.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = shutdown.changed() => break,
        };
        let (shared, api, control) = (shared.clone(), api.clone(), control.clone());
        let service = hyper::service::service_fn(move |request: Request<Incoming>| {
            handle(request, shared.clone(), api.clone(), control.clone())
        });
        let connection = hyper::server::conn::http1::Builder::new()
            .serve_connection(TokioIo::new(stream), service);
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            let _ = connection.await;
        });
    }
    drop(listener);
    let _ = tokio::time::timeout(Duration::from_secs(5), graceful.shutdown()).await;
}

async fn handle(
    request: Request<Incoming>,
    shared: Arc<Shared>,
    api: Router,
    control: Router,
) -> Result<Response<Body>, Silence> {
    let mut request = request.map(Body::new);
    let path = request.uri().path().to_owned();
    if path == "/sim" || path.starts_with("/sim/") {
        return Ok(into_ok(control.oneshot(request).await));
    }
    let origin = public_origin(request.headers());
    let (server, prefix, inner) = match path.strip_prefix("/servers/") {
        Some(rest) => {
            let (name, inner) = rest.split_once('/').unwrap_or((rest, ""));
            (
                name.to_owned(),
                format!("/servers/{name}"),
                format!("/{inner}"),
            )
        }
        None => match shared.root_server() {
            Some(server) => (server, String::new(), path.clone()),
            None => return Err(Silence),
        },
    };
    let snapshot = shared.snapshot();
    let Some(state) = snapshot.server(&server) else {
        return Ok(error_response(
            StatusCode::NOT_FOUND,
            format!("Management Server {server} is not part of this simulated cluster."),
            vec![format!("servers: {}", names(&snapshot))],
        ));
    };

    // A slow answer: the server acts at once and answers late, as a real
    // one does when its answer is delayed (the client may give up first).
    let mut answer_after = None;
    if let Some(fault) = shared.take_fault(&path) {
        match fault {
            HttpFaultKind::ServerError => {
                return Ok(error_response(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Internal server error (injected by the simulator)".to_owned(),
                    Vec::new(),
                ))
            }
            HttpFaultKind::MalformedJson => {
                return Ok(Response::builder()
                    .status(StatusCode::OK)
                    .header(header::CONTENT_TYPE, "application/json")
                    .body(Body::from("{\"value\": [unterminated"))
                    .unwrap_or_default())
            }
            HttpFaultKind::CloseConnection => return Err(Silence),
            HttpFaultKind::Unauthorized => {
                return Ok(error_response(
                    StatusCode::UNAUTHORIZED,
                    "Not logged in or session expired (injected by the simulator)".to_owned(),
                    Vec::new(),
                ))
            }
            HttpFaultKind::Slow { delay_ms } => {
                answer_after = Some(Duration::from_millis(delay_ms));
            }
        }
    }

    if !state.running {
        return Err(Silence);
    }
    if !shared.read(|simulator| simulator.is_reachable(&server)) {
        // Unreachable: the request hangs until the client gives up (or the
        // simulator shuts down).
        let mut shutdown = shared.shutdown_watch();
        let _ = shutdown.changed().await;
        return Err(Silence);
    }

    let query = request
        .uri()
        .query()
        .map(|query| format!("?{query}"))
        .unwrap_or_default();
    let Ok(uri) = format!("{inner}{query}").parse::<Uri>() else {
        return Ok(error_response(
            StatusCode::BAD_REQUEST,
            "Malformed request path".to_owned(),
            Vec::new(),
        ));
    };
    *request.uri_mut() = uri;
    request.extensions_mut().insert(Connected {
        server,
        base: format!("{origin}{prefix}"),
        cookie_path: if prefix.is_empty() {
            "/".to_owned()
        } else {
            prefix
        },
    });
    // A server finishes what it was asked even when the client has gone (a
    // closed connection drops this future, not the spawned request).
    let response = tokio::spawn(api.oneshot(request))
        .await
        .map_err(|_| Silence)?;
    if let Some(delay) = answer_after {
        let mut shutdown = shared.shutdown_watch();
        tokio::select! {
            _ = tokio::time::sleep(delay) => {}
            _ = shutdown.changed() => return Err(Silence),
        }
    }
    Ok(into_ok(response))
}

/// `SCHEME://HOST` as clients reach the server: from `Host`, or from
/// `X-Forwarded-Proto` and `X-Forwarded-Host` when a reverse proxy (e.g. one
/// that terminates TLS) sets them, so that every href leads back through it.
pub(super) fn public_origin(headers: &axum::http::HeaderMap) -> String {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.split(',').next())
            .map(str::trim)
            .filter(|value| !value.is_empty())
    };
    let scheme = match header("x-forwarded-proto") {
        Some("https") => "https",
        _ => "http",
    };
    let host = header("x-forwarded-host")
        .or_else(|| header(header::HOST.as_str()))
        .unwrap_or("localhost");
    format!("{scheme}://{host}")
}

fn into_ok(result: Result<Response<Body>, Infallible>) -> Response<Body> {
    match result {
        Ok(response) => response,
        Err(never) => match never {},
    }
}

fn names(snapshot: &crate::cluster::Snapshot) -> String {
    snapshot
        .servers
        .iter()
        .map(|server| server.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}
