//! Simulator speed: operations per second in virtual time, and whole
//! simulated upgrades (downtime and no-downtime) from a fresh cluster.

use std::hint::black_box;

use criterion::{criterion_main, BenchmarkId, Criterion, Throughput};
use runbook::cluster::{Operation, SimConfig, Simulator, Version};

fn target() -> Version {
    Version::from_parts(vec![7, 4, 0])
}

fn perform(simulator: &mut Simulator, operation: Operation) {
    if let Err(error) = simulator.run(&operation) {
        panic!("{operation} failed in the benchmark: {error}");
    }
}

fn downtime_upgrade(servers: usize) -> Simulator {
    let mut simulator = Simulator::new(SimConfig::with_servers(servers));
    let standbys: Vec<String> = (2..=servers).map(|index| format!("mgt-{index}")).collect();
    for standby in &standbys {
        perform(
            &mut simulator,
            Operation::StopServer {
                server: standby.clone(),
            },
        );
    }
    perform(
        &mut simulator,
        Operation::StopServer {
            server: "mgt-1".into(),
        },
    );
    perform(
        &mut simulator,
        Operation::Upgrade {
            server: "mgt-1".into(),
            version: target(),
        },
    );
    for standby in &standbys {
        perform(
            &mut simulator,
            Operation::Upgrade {
                server: standby.clone(),
                version: target(),
            },
        );
    }
    for standby in &standbys {
        perform(
            &mut simulator,
            Operation::InitStandby {
                server: standby.clone(),
            },
        );
    }
    simulator
}

fn no_downtime_upgrade(servers: usize) -> Simulator {
    let mut simulator = Simulator::new(SimConfig::with_servers(servers));
    let extras: Vec<String> = (3..=servers).map(|index| format!("mgt-{index}")).collect();
    perform(
        &mut simulator,
        Operation::Exclude {
            server: "mgt-2".into(),
        },
    );
    for extra in &extras {
        perform(
            &mut simulator,
            Operation::StopServer {
                server: extra.clone(),
            },
        );
    }
    perform(
        &mut simulator,
        Operation::Upgrade {
            server: "mgt-2".into(),
            version: target(),
        },
    );
    perform(
        &mut simulator,
        Operation::ForceActivate {
            server: "mgt-2".into(),
        },
    );
    perform(
        &mut simulator,
        Operation::SetStandby {
            server: "mgt-1".into(),
            force: true,
        },
    );
    perform(
        &mut simulator,
        Operation::StopServer {
            server: "mgt-1".into(),
        },
    );
    perform(
        &mut simulator,
        Operation::Upgrade {
            server: "mgt-1".into(),
            version: target(),
        },
    );
    for extra in &extras {
        perform(
            &mut simulator,
            Operation::Upgrade {
                server: extra.clone(),
                version: target(),
            },
        );
    }
    perform(
        &mut simulator,
        Operation::InitStandby {
            server: "mgt-1".into(),
        },
    );
    for extra in &extras {
        perform(
            &mut simulator,
            Operation::InitStandby {
                server: extra.clone(),
            },
        );
    }
    simulator
}

/// One round of operations: two reads, exclude and re-initialize a standby
/// (a background operation run to its end), a stop and a start.
const OPERATIONS_PER_ROUND: u64 = 6;

fn operation_round(simulator: &mut Simulator) {
    perform(
        simulator,
        Operation::Diagnostic {
            server: "mgt-1".into(),
        },
    );
    perform(
        simulator,
        Operation::ReplicationStates {
            server: "mgt-1".into(),
        },
    );
    perform(
        simulator,
        Operation::Exclude {
            server: "mgt-2".into(),
        },
    );
    perform(
        simulator,
        Operation::InitStandby {
            server: "mgt-2".into(),
        },
    );
    perform(
        simulator,
        Operation::StopServer {
            server: "mgt-3".into(),
        },
    );
    perform(
        simulator,
        Operation::StartServer {
            server: "mgt-3".into(),
        },
    );
}

fn operations(criterion: &mut Criterion) {
    let mut group = criterion.benchmark_group("simulator");
    group.throughput(Throughput::Elements(OPERATIONS_PER_ROUND));
    let mut simulator = Simulator::new(SimConfig::default());
    group.bench_function("operations", |bencher| {
        bencher.iter(|| operation_round(black_box(&mut simulator)))
    });
    group.finish();
}

fn upgrades(criterion: &mut Criterion) {
    let mut group = criterion.benchmark_group("simulated-upgrade");
    for servers in [3, 5] {
        group.bench_with_input(
            BenchmarkId::new("downtime", servers),
            &servers,
            |bencher, &servers| bencher.iter(|| black_box(downtime_upgrade(servers))),
        );
        group.bench_with_input(
            BenchmarkId::new("no-downtime", servers),
            &servers,
            |bencher, &servers| bencher.iter(|| black_box(no_downtime_upgrade(servers))),
        );
    }
    group.finish();
}

/// `criterion_group!` generates an undocumented public function.
#[allow(missing_docs)]
mod registered {
    use super::{operations, upgrades};
    criterion::criterion_group!(benches, operations, upgrades);
}

criterion_main!(registered::benches);
