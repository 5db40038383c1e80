//! Parse + resolve throughput on a generated runbook of more than 1 MB
//! (`cargo bench --bench parse`; criterion reports MB/s).

use criterion::{criterion_main, Criterion, Throughput};
use runbook::syntax::{check_source, parse};

/// A runbook with many steps using every statement family, > 1 MB.
fn generated_runbook() -> String {
    let mut text = String::from(
        "//! Generated for the parse benchmark.\n\nrunbook generated {\n    title \"Generated\"\n    summary \"Many steps.\"\n    param version: version = 7.4.0\n    param max_wait: duration = 30m\n    import \"lib/exclude-server.runbook\"\n\n    let active = active()\n    let standbys = standbys()\n\n",
    );
    let mut index = 0;
    while text.len() < 1_100_000 {
        text.push_str(&format!(
            r#"    /// Step {index}: upgrade and check every Standby.
    step {index} upgrade-{index} "Upgrade the Standby Servers, round {index}" within 5m after upgrade-{previous} {{
        note "Round {index}: standbys are upgraded one by one."
        for standby in standbys without active {{
            if not standby.running {{
                start-server(server: standby)
            }} else if standby.excluded and standby.state == STB_NO_REP {{
                call exclude-server(server: standby)
            }} else {{
                set-standby(server: standby, force: true)
            }}
            upgrade(server: standby, version: version)
        }}
        check all s in standbys: s.version >= version and not s.excluded else "round {index} left a Standby behind"
        wait until healthy() and count(actives()) == 1 timeout max_wait every 15s
        confirm verify-{index} "Does everything look right after round {index}?"
    }}

"#,
            previous = if index == 0 { 0 } else { index - 1 },
        ));
        index += 1;
    }
    text.push_str("    what-if broken \"Replication is broken\" when replication-broken during upgrade-0 {\n        stop \"Repair replication first.\"\n    }\n}\n");
    text
}

fn bench(criterion: &mut Criterion) {
    let source = generated_runbook();
    let mut group = criterion.benchmark_group("runbook");
    group.throughput(Throughput::Bytes(source.len() as u64));
    group.sample_size(20);
    group.bench_function("parse", |bencher| {
        bencher.iter(|| parse(&source).map(|file| file.body.len()).unwrap_or(0))
    });
    group.bench_function("parse+resolve", |bencher| {
        bencher.iter(|| {
            let (_, checked) = check_source("generated.runbook", &source);
            assert!(checked.errors.is_empty());
            checked.program.is_some()
        })
    });
    group.finish();
}

mod group {
    // The macro generates an undocumented `pub fn`.
    #![allow(missing_docs)]
    criterion::criterion_group!(benches, super::bench);
}
criterion_main!(group::benches);
