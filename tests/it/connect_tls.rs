//! HTTPS on loopback: `runbook sim serve` (in-process, `127.0.0.1:0`) behind
//! a TLS-terminating reverse proxy written here with tokio-rustls, whose
//! certificates rcgen makes at test time (a CA and a server certificate it
//! signs, or a self-signed one). Through the built binary:
//!
//! - by default an untrusted certificate is refused, exit 2, with a
//!   diagnostic that names TLS verification and how to trust a CA;
//! - with the CA (`--ca-cert`, or the inventory's `[tls] ca_file`) a
//!   runbook runs to the end over HTTPS;
//! - with the explicit opt-out (`--insecure-skip-tls-verify`, or
//!   `[tls] verify = false`) it connects, and a warning says verification
//!   is off.
//!
//! In every path the API key appears neither in the output nor in the journal.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::Arc;

use axum::body::Body;
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, KeyUsagePurpose};
use runbook::cluster::SimConfig;
use runbook::connect::sim_server::RunningSimServer;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::net::TcpListener;

use crate::support::process::{
    assert_upgraded_event, command_in, downtime_run, events, flat, journal_header, output_blocking,
    text,
};
use crate::support::{process, serve_sim};

const KEY: &str = "tls-test-key-0f3a8d6e";

// ---- certificates -------------------------------------------------------------

/// A server certificate and its key, with the PEM a client may trust.
struct ServerCertificate {
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
    /// The PEM of the CA that signed it (or of the certificate itself when
    /// it is self-signed).
    trust_pem: String,
}

fn server_params() -> CertificateParams {
    let mut params = CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
        .expect("names");
    params
        .distinguished_name
        .push(DnType::CommonName, "runbook test SMC");
    params
}

/// A CA made now, and a certificate for 127.0.0.1 that it signs.
fn signed_by_test_ca() -> ServerCertificate {
    let ca_key = KeyPair::generate().expect("CA key");
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "runbook test CA");
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca = ca_params.self_signed(&ca_key).expect("CA certificate");
    let key = KeyPair::generate().expect("server key");
    let certificate = server_params()
        .signed_by(&key, &ca, &ca_key)
        .expect("server certificate");
    ServerCertificate {
        chain: vec![certificate.der().clone(), ca.der().clone()],
        key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
        trust_pem: ca.pem(),
    }
}

/// A self-signed certificate for 127.0.0.1.
fn self_signed() -> ServerCertificate {
    let key = KeyPair::generate().expect("key");
    let certificate = server_params().self_signed(&key).expect("certificate");
    ServerCertificate {
        chain: vec![certificate.der().clone()],
        key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
        trust_pem: certificate.pem(),
    }
}

/// A self-signed certificate for 127.0.0.1 marked as a CA, as `openssl req
/// -x509` makes it by default (`basicConstraints = CA:TRUE`).
fn self_signed_ca() -> ServerCertificate {
    let key = KeyPair::generate().expect("key");
    let mut params = server_params();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let certificate = params.self_signed(&key).expect("certificate");
    ServerCertificate {
        chain: vec![certificate.der().clone()],
        key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
        trust_pem: certificate.pem(),
    }
}

/// A self-signed certificate made by `openssl req -x509 -newkey rsa:2048
/// ...` (RSA, `basicConstraints = critical, CA:TRUE`), committed with its
/// key under `tests/fixtures/tls/` (see the README there).
fn openssl_made(name: &str) -> ServerCertificate {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tls");
    let pem = std::fs::read_to_string(dir.join(format!("{name}.pem"))).expect("certificate");
    let chain = CertificateDer::pem_slice_iter(pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .expect("PEM certificate");
    let key = PrivateKeyDer::from_pem_file(dir.join(format!("{name}.key"))).expect("PEM key");
    ServerCertificate {
        chain,
        key,
        trust_pem: pem,
    }
}

// ---- servers ------------------------------------------------------------------

/// A simulated cluster behind a TLS-terminating reverse proxy.
struct HttpsSim {
    sim: RunningSimServer,
    proxy: tokio::task::JoinHandle<()>,
    /// `https://127.0.0.1:PORT`.
    url: String,
}

impl HttpsSim {
    async fn start(certificate: &ServerCertificate) -> Self {
        let sim = serve_sim(SimConfig::default(), KEY, 6000.0).await;
        let (addr, proxy) = tls_proxy(sim.url(), certificate).await;
        HttpsSim {
            sim,
            proxy,
            url: format!("https://{addr}"),
        }
    }

    async fn shutdown(self) {
        self.proxy.abort();
        self.sim.shutdown().await;
    }
}

/// Accepts TLS on a free loopback port and forwards each request to `sim`
/// over plain HTTP, with `X-Forwarded-Proto: https` and `X-Forwarded-Host`
/// so that the simulator's hrefs lead back through the proxy.
async fn tls_proxy(
    sim: String,
    certificate: &ServerCertificate,
) -> (SocketAddr, tokio::task::JoinHandle<()>) {
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("protocol versions")
    .with_no_client_auth()
    .with_single_cert(certificate.chain.clone(), certificate.key.clone_key())
    .expect("server certificate");
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("address");
    let client = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client");
    let task = tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let (acceptor, client, sim) = (acceptor.clone(), client.clone(), sim.clone());
            tokio::spawn(async move {
                // A client that refuses the certificate ends the handshake.
                let Ok(tls) = acceptor.accept(stream).await else {
                    return;
                };
                let service = hyper::service::service_fn(move |request| {
                    forward(request, client.clone(), sim.clone())
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(tls), service)
                    .await;
            });
        }
    });
    (addr, task)
}

async fn forward(
    request: Request<Incoming>,
    client: reqwest::Client,
    sim: String,
) -> Result<Response<Body>, reqwest::Error> {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(Body::new(body), usize::MAX)
        .await
        .unwrap_or_default();
    let path = parts.uri.path_and_query().map_or("/", |path| path.as_str());
    let mut outgoing = client.request(parts.method.clone(), format!("{sim}{path}"));
    for (name, value) in &parts.headers {
        if !hop_by_hop(name.as_str()) {
            outgoing = outgoing.header(name, value);
        }
    }
    outgoing = outgoing.header("x-forwarded-proto", "https");
    if let Some(host) = parts.headers.get(hyper::header::HOST) {
        outgoing = outgoing.header("x-forwarded-host", host);
    }
    // A stopped simulated server closes the connection: so does the proxy
    // (the error ends it without an answer).
    let answer = outgoing.body(body).send().await?;
    let mut response = Response::builder().status(answer.status());
    for (name, value) in answer.headers() {
        if !hop_by_hop(name.as_str()) {
            response = response.header(name, value);
        }
    }
    let bytes = answer.bytes().await?;
    Ok(response.body(Body::from(bytes)).expect("response"))
}

fn hop_by_hop(name: &str) -> bool {
    matches!(
        name,
        "host" | "connection" | "content-length" | "transfer-encoding" | "keep-alive"
    )
}

// ---- the binary ---------------------------------------------------------------

/// Runs the binary with `args` in `dir` (blocking, off the servers' runtime).
async fn runbook(dir: &Path, args: &[&str]) -> Output {
    let mut command = command_in(dir);
    command
        .env("RUNBOOK_API_KEY", KEY)
        .env("RUNBOOK_TLS_TEST_KEY", KEY)
        // The proxy is reached directly, whatever the environment says.
        .env_remove("HTTPS_PROXY")
        .env_remove("https_proxy")
        .env_remove("ALL_PROXY")
        .env_remove("all_proxy")
        .args(args);
    output_blocking(command).await
}

fn assert_no_key(output: &Output, journal: &Path) {
    process::assert_no_key(output, Some(journal), KEY);
}

/// The last event is `run_finished` with outcome `succeeded` and an
/// upgraded cluster.
fn assert_succeeded(output: &Output) {
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    let events = events(output);
    let last = events.last().expect("events");
    assert_upgraded_event(last, "over HTTPS");
    assert_eq!(last["cluster"]["servers"].as_array().map(Vec::len), Some(3));
}

/// `runbook run upgrade-with-downtime --yes --target URL ARGS --journal
/// JOURNAL` in `dir`.
async fn run_downtime(dir: &Path, url: &str, args: &[&str], journal: &Path) -> Output {
    runbook(dir, &downtime_run(url, args, journal)).await
}

/// `runbook plan upgrade-with-downtime` in `dir` through an inventory of the
/// three simulated servers behind `url`, with `tls` as its `[tls]` table.
async fn plan_through_inventory(dir: &Path, url: &str, tls: &str) -> Output {
    let inventory = inventory(dir, url, tls);
    runbook(
        dir,
        &[
            "plan",
            "upgrade-with-downtime",
            "--target",
            inventory.to_str().expect("utf-8"),
        ],
    )
    .await
}

/// An inventory naming the three simulated servers behind `url`, with `tls`
/// as its `[tls]` table.
fn inventory(dir: &Path, url: &str, tls: &str) -> PathBuf {
    let mut text =
        format!("[api]\napi_key_env = \"RUNBOOK_TLS_TEST_KEY\"\nrequest_timeout = \"30s\"\n\n[tls]\n{tls}\n");
    for server in ["mgt-1", "mgt-2", "mgt-3"] {
        text.push_str(&format!(
            "\n[[servers]]\nname = \"{server}\"\nhost = \"{server}\"\napi = \"{url}/servers/{server}\"\n"
        ));
    }
    let path = dir.join("inventory.toml");
    std::fs::write(&path, text).expect("inventory");
    path
}

// ---- (a) refused by default -----------------------------------------------------

/// A certificate from an unknown CA, and a self-signed one: refused before
/// anything is done (exit 2, no journal), the diagnostic names TLS
/// verification and says how to trust the CA; the same through an
/// inventory without `ca_file`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_untrusted_certificate_is_refused_with_a_clear_diagnostic() {
    for (kind, certificate) in [
        ("unknown CA", signed_by_test_ca()),
        ("self-signed", self_signed()),
        ("self-signed CA", self_signed_ca()),
        ("openssl req -x509", openssl_made("openssl-self-signed")),
    ] {
        let server = HttpsSim::start(&certificate).await;
        let dir = tempfile::tempdir().expect("tempdir");
        let journal = dir.path().join("run.jsonl");
        let output = run_downtime(dir.path(), &server.url, &[], &journal).await;
        // Help lines wrap between words only: the flags can be copied as shown.
        let raw = text(&output.stderr);
        for flag in ["--insecure-skip-tls-verify", "--ca-cert"] {
            assert!(
                raw.contains(flag),
                "{kind}: `{flag}` cut by wrapping: {raw}"
            );
        }
        let stderr = flat(&raw);
        assert_eq!(output.status.code(), Some(2), "{kind}: {stderr}");
        assert!(
            stderr.contains("runbook::connector::tls_verification"),
            "{kind}: {stderr}"
        );
        assert!(
            stderr.contains(&format!(
                "TLS certificate verification failed for {}/sim/info: invalid peer certificate",
                server.url
            )),
            "{kind}: {stderr}"
        );
        assert!(
            stderr.contains("Trust the CA that signed it with `--ca-cert FILE`"),
            "{kind}: the help says how to trust a CA: {stderr}"
        );
        assert!(!journal.exists(), "{kind}: nothing ran");
        assert_no_key(&output, &journal);

        let planned = plan_through_inventory(dir.path(), &server.url, "verify = true").await;
        let stderr = flat(&text(&planned.stderr));
        assert_eq!(planned.status.code(), Some(2), "{kind}: {stderr}");
        assert!(
            stderr.contains("runbook::connector::tls_verification"),
            "{kind}: {stderr}"
        );
        assert_no_key(&planned, &journal);
        server.shutdown().await;
    }
}

// ---- (b) trusted with the CA -----------------------------------------------------

/// `--ca-cert` with the CA (or with the self-signed certificate itself):
/// the whole downtime upgrade runs over HTTPS, no warning; the journal
/// records the CA's absolute path for `resume`. An inventory's `ca_file`
/// (relative to the inventory) works the same for `plan`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_ca_a_runbook_runs_over_https() {
    for (kind, certificate) in [
        ("CA", signed_by_test_ca()),
        ("self-signed", self_signed()),
        ("self-signed, marked as a CA (rcgen)", self_signed_ca()),
        (
            "made by openssl req -x509 (RSA, CA:TRUE)",
            openssl_made("openssl-self-signed"),
        ),
    ] {
        let server = HttpsSim::start(&certificate).await;
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("ca.pem"), &certificate.trust_pem).expect("CA file");
        let journal = dir.path().join("run.jsonl");
        let output = run_downtime(
            dir.path(),
            &server.url,
            &["--format", "json", "--ca-cert", "ca.pem"],
            &journal,
        )
        .await;
        assert_succeeded(&output);
        let events = events(&output);
        assert!(
            events[0]["target"].as_str().is_some_and(
                |target| target.contains(&server.url) && !target.contains("verification off")
            ),
            "{kind}: {}",
            events[0]
        );
        assert!(
            events.iter().all(|event| event["event"] != "warning"),
            "{kind}: no warning when the certificate is verified"
        );
        let header = journal_header(&journal);
        let recorded = PathBuf::from(header["connection"]["ca_cert"].as_str().expect("ca_cert"));
        assert!(recorded.is_absolute(), "{recorded:?}");
        assert!(recorded.ends_with("ca.pem"), "{recorded:?}");
        assert_no_key(&output, &journal);

        let planned = plan_through_inventory(dir.path(), &server.url, "ca_file = \"ca.pem\"").await;
        let stderr = text(&planned.stderr);
        assert_eq!(planned.status.code(), Some(0), "{kind}: {stderr}");
        assert!(!stderr.contains("warning"), "{kind}: {stderr}");
        assert_no_key(&planned, &journal);
        server.shutdown().await;
    }
}

/// A pinned self-signed CA certificate is trusted for the names it was
/// made for only: the same `--ca-cert` with a certificate for
/// `elsewhere.example`, served on 127.0.0.1, is refused before anything
/// is done.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pinned_certificate_for_another_name_is_refused() {
    let certificate = openssl_made("openssl-other-name");
    let server = HttpsSim::start(&certificate).await;
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("ca.pem"), &certificate.trust_pem).expect("CA file");
    let journal = dir.path().join("run.jsonl");
    let output = run_downtime(dir.path(), &server.url, &["--ca-cert", "ca.pem"], &journal).await;
    let stderr = flat(&text(&output.stderr));
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("runbook::connector::tls_verification"),
        "{stderr}"
    );
    assert!(!journal.exists(), "nothing ran: {stderr}");
    assert_no_key(&output, &journal);
    server.shutdown().await;
}

/// The operating system's trust store is used: a CA installed there (here
/// through `SSL_CERT_FILE`, which the native store honours) is trusted
/// without `--ca-cert` or `ca_file`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ca_in_the_system_trust_store_is_trusted() {
    let certificate = signed_by_test_ca();
    let server = HttpsSim::start(&certificate).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path().join("system-store.pem");
    std::fs::write(&store, &certificate.trust_pem).expect("store");
    let inventory = inventory(dir.path(), &server.url, "verify = true");
    let mut command = command_in(dir.path());
    command
        .env("RUNBOOK_TLS_TEST_KEY", KEY)
        .env("SSL_CERT_FILE", &store)
        .env_remove("SSL_CERT_DIR")
        .env_remove("HTTPS_PROXY")
        .env_remove("https_proxy")
        .env_remove("ALL_PROXY")
        .env_remove("all_proxy")
        .args(["plan", "upgrade-with-downtime", "--target"])
        .arg(&inventory);
    let planned = output_blocking(command).await;
    let stderr = text(&planned.stderr);
    assert_eq!(planned.status.code(), Some(0), "{stderr}");
    server.shutdown().await;
}

// ---- (c) the explicit opt-out ------------------------------------------------------

/// `--insecure-skip-tls-verify` connects to the self-signed server and
/// runs; a warning (`runbook::connector::tls_verification_off`) follows
/// `run_started` and the target's description says verification is off.
/// In human output the warning is printed too; the inventory's
/// `verify = false` warns the same way for `plan`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_opt_out_connects_and_warns_that_verification_is_off() {
    let server = HttpsSim::start(&self_signed()).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let journal = dir.path().join("run.jsonl");
    let output = run_downtime(
        dir.path(),
        &server.url,
        &["--format", "json", "--insecure-skip-tls-verify"],
        &journal,
    )
    .await;
    assert_succeeded(&output);
    let events = events(&output);
    assert_eq!(events[0]["event"], "run_started");
    assert!(
        events[0]["target"]
            .as_str()
            .is_some_and(|target| target.contains("TLS certificate verification off")),
        "{}",
        events[0]
    );
    assert_eq!(events[1]["event"], "warning", "{}", events[1]);
    assert_eq!(
        events[1]["code"],
        "runbook::connector::tls_verification_off"
    );
    assert!(
        events[1]["message"]
            .as_str()
            .is_some_and(|message| message.starts_with("TLS certificate verification is off")),
        "{}",
        events[1]
    );
    assert_no_key(&output, &journal);
    server.shutdown().await;

    let server = HttpsSim::start(&self_signed()).await;
    let human = run_downtime(
        dir.path(),
        &server.url,
        &["--insecure-skip-tls-verify"],
        &dir.path().join("human.jsonl"),
    )
    .await;
    let all = format!("{}{}", text(&human.stdout), text(&human.stderr));
    assert_eq!(human.status.code(), Some(0), "{all}");
    assert!(
        flat(&all).contains("TLS certificate verification is off"),
        "{all}"
    );
    assert_no_key(&human, &dir.path().join("human.jsonl"));

    let planned = plan_through_inventory(dir.path(), &server.url, "verify = false").await;
    let stderr = text(&planned.stderr);
    assert_eq!(planned.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("warning[runbook::connector::tls_verification_off]: TLS certificate verification is off"),
        "{stderr}"
    );
    assert_no_key(&planned, &journal);
    server.shutdown().await;
}

/// `--ca-cert` and `--insecure-skip-tls-verify` contradict each other: a
/// usage error; a CA file that is not a PEM certificate is named.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contradictory_or_unreadable_tls_options_are_usage_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("not-a-ca.pem"), "hello").expect("file");
    let both = runbook(
        dir.path(),
        &[
            "run",
            "upgrade-with-downtime",
            "--target",
            "https://127.0.0.1:9",
            "--ca-cert",
            "not-a-ca.pem",
            "--insecure-skip-tls-verify",
        ],
    )
    .await;
    assert_eq!(both.status.code(), Some(2));
    assert!(
        text(&both.stderr).contains("cannot be used with"),
        "{}",
        text(&both.stderr)
    );
    let unreadable = runbook(
        dir.path(),
        &[
            "run",
            "upgrade-with-downtime",
            "--target",
            "https://127.0.0.1:9",
            "--ca-cert",
            "missing.pem",
        ],
    )
    .await;
    let stderr = flat(&text(&unreadable.stderr));
    assert_eq!(unreadable.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("cannot read the CA file"), "{stderr}");
    assert!(stderr.contains("missing.pem"), "{stderr}");
}
