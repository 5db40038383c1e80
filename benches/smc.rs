//! Operations per second of the `smc` connector against `runbook sim serve`
//! over loopback (both in this process, on one tokio runtime): a read
//! (diagnostic, one GET), an action (set-standby, one POST) and a whole
//! snapshot (mgt_server list, every element, replication diagnostic).

use std::time::Duration;

use criterion::{criterion_main, Criterion, Throughput};
use runbook::cluster::{Operation, SimConfig};
use runbook::connect::sim_server::{self, SimServeConfig};
use runbook::connect::smc::{SmcConnector, SmcSettings};
use runbook::connect::{ApiKey, Connector};

const KEY: &str = "bench-key-31337";

fn smc(criterion: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let (server, connector) = runtime.block_on(async {
        let listener = sim_server::bind("127.0.0.1:0").await.expect("bind");
        let server = sim_server::start(
            listener,
            SimServeConfig {
                sim: SimConfig::default(),
                key: ApiKey::new(KEY),
                speed: 600.0,
                state_file: None,
                first_element_key: None,
                lease_stale_after: runbook::connect::lease::STALE_AFTER,
            },
        )
        .await
        .expect("start");
        let settings = SmcSettings {
            request_timeout: Duration::from_secs(5),
            ..SmcSettings::default()
        };
        let connector = SmcConnector::for_sim_url_with(&server.url(), ApiKey::new(KEY), settings)
            .await
            .expect("connect");
        connector.snapshot().await.expect("log in");
        (server, connector)
    });

    let diagnostic = Operation::Diagnostic {
        server: "mgt-1".into(),
    };
    let set_standby = Operation::SetStandby {
        server: "mgt-2".into(),
        force: true,
    };
    runtime.block_on(async {
        connector.perform(&diagnostic).await.expect("diagnostic");
        connector.perform(&set_standby).await.expect("set-standby");
    });

    let mut group = criterion.benchmark_group("smc_over_loopback");
    group.throughput(Throughput::Elements(1));
    group.bench_function("diagnostic", |bencher| {
        bencher
            .to_async(&runtime)
            .iter(|| async { connector.perform(&diagnostic).await.expect("diagnostic") })
    });
    group.bench_function("set_standby", |bencher| {
        bencher
            .to_async(&runtime)
            .iter(|| async { connector.perform(&set_standby).await.expect("set-standby") })
    });
    group.bench_function("snapshot", |bencher| {
        bencher
            .to_async(&runtime)
            .iter(|| async { connector.snapshot().await.expect("snapshot") })
    });
    group.finish();
    runtime.block_on(server.shutdown());
}

/// Runs the benchmark group (what `criterion_group!` would generate, documented).
fn benches() {
    let mut criterion = Criterion::default().configure_from_args();
    smc(&mut criterion);
}

criterion_main!(benches);
