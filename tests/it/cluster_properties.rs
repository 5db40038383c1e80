//! Properties of the model over arbitrary operation sequences: no panic,
//! refusals change nothing, split brain never survives a step, runs are
//! reproducible for a seed.

use std::time::Duration;

use proptest::prelude::*;
use runbook::cluster::{Fault, Mode, Operation, SimConfig, SimError, Simulator, Version};

#[derive(Debug, Clone)]
enum Step {
    Perform(Operation),
    Start(Operation),
    Advance(Duration),
}

fn server() -> impl Strategy<Value = String> {
    (1usize..=5).prop_map(|index| format!("mgt-{index}"))
}

fn operation() -> impl Strategy<Value = Operation> {
    prop_oneof![
        server().prop_map(|server| Operation::Diagnostic { server }),
        server().prop_map(|server| Operation::ReplicationStates { server }),
        server().prop_map(|server| Operation::Exclude { server }),
        server().prop_map(|server| Operation::InitStandby { server }),
        server().prop_map(|server| Operation::Activate { server }),
        server().prop_map(|server| Operation::ForceActivate { server }),
        (server(), any::<bool>())
            .prop_map(|(server, force)| Operation::SetStandby { server, force }),
        server().prop_map(|server| Operation::StopReplication { server }),
        server().prop_map(|server| Operation::StopServer { server }),
        server().prop_map(|server| Operation::StartServer { server }),
        (
            server(),
            prop_oneof![Just("7.4.0"), Just("7.3.4"), Just("7.5")]
        )
            .prop_map(|(server, version)| Operation::Upgrade {
                server,
                version: version
                    .parse::<Version>()
                    .unwrap_or_else(|_| Version::from_parts(vec![7, 4, 0])),
            }),
        server().prop_map(|server| Operation::Backup { server }),
        server().prop_map(|server| Operation::RestoreBackup { server }),
    ]
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        3 => operation().prop_map(Step::Perform),
        1 => operation().prop_map(Step::Start),
        1 => (0u64..1200).prop_map(|seconds| Step::Advance(Duration::from_secs(seconds))),
    ]
}

fn fault() -> impl Strategy<Value = Fault> {
    prop_oneof![
        Just(Fault::ReplicationDown),
        Just(Fault::ActiveUpgradeCancelled),
        Just(Fault::StandbyAutoActivates),
        Just(Fault::StandbyActivatedByOperator),
        Just(Fault::ChangesOnActive),
        (1usize..=3).prop_map(|index| Fault::UpgradeFails(format!("mgt-{index}"))),
        (1usize..=3).prop_map(|index| Fault::Unreachable(format!("mgt-{index}"))),
    ]
}

fn play(config: &SimConfig, steps: &[Step]) -> Simulator {
    let mut simulator = Simulator::new(config.clone());
    for step in steps {
        let before = simulator.cluster().clone();
        let refused = match step {
            Step::Perform(operation) => {
                matches!(simulator.run(operation), Err(SimError::Refused { .. }))
            }
            Step::Start(operation) => {
                matches!(simulator.start(operation), Err(SimError::Refused { .. }))
            }
            Step::Advance(by) => {
                simulator.advance(*by);
                false
            }
        };
        if refused {
            assert_eq!(simulator.cluster(), &before, "a refusal changes nothing");
        }
        let visible_actives = simulator
            .cluster()
            .servers()
            .iter()
            .filter(|server| server.running && server.mode == Mode::Active && !server.excluded)
            .count();
        assert!(visible_actives <= 1, "split brain never survives a step");
        let snapshot = simulator.snapshot();
        assert_eq!(snapshot.servers.len(), config.servers);
    }
    simulator
}

proptest! {
    #![proptest_config(crate::support::proptest_config(256))]

    #[test]
    fn arbitrary_runs_keep_the_model_consistent_and_reproducible(
        servers in 1usize..=4,
        faults in proptest::collection::vec(fault(), 0..3),
        seed in any::<u64>(),
        steps in proptest::collection::vec(step(), 0..40),
    ) {
        let config = SimConfig { servers, faults, seed, ..SimConfig::default() };
        let first = play(&config, &steps);
        let second = play(&config, &steps);
        prop_assert_eq!(&first, &second);
        let json = serde_json::to_string(&first).expect("serializes");
        let restored: Simulator = serde_json::from_str(&json).expect("deserializes");
        prop_assert_eq!(restored, first);
    }
}
