//! `runbook fleet`: one runbook over several clusters, each a `runbook sim
//! serve` child reached through its own inventory. The end state of every
//! cluster is read from its simulator; `--max-failures` leaves the later
//! clusters alone; a fleet killed mid-run is resumed without repeating a
//! completed step; refusals point into the fleet file; `--json` matches
//! `runbook schema fleet`.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::assert_upgraded;
use crate::support::process::{
    binary, count_records, finished_ok_per_step, records, show, text, SimServe, KEY,
};

/// Simulated seconds per real second: a whole upgrade in about a second.
const FAST: u32 = 6000;

/// A `runbook sim serve` in `dir/NAME/` with `faults`, at `speed`.
fn sim(dir: &Path, name: &str, speed: u32, faults: &[&str]) -> SimServe {
    let folder = dir.join(name);
    std::fs::create_dir_all(&folder).expect("sim folder");
    let mut args: Vec<OsString> = vec![
        "--speed".into(),
        speed.to_string().into(),
        "--state".into(),
        folder.join("cluster.json").into(),
    ];
    for fault in faults {
        args.push("--sim-fault".into());
        args.push((*fault).into());
    }
    SimServe::with_args(args)
}

/// An inventory of `sim`'s servers in `dir/NAME.toml`: the API key in
/// `RUNBOOK_API_KEY`, console operations by `curl` on `/sim/console`.
fn inventory(dir: &Path, name: &str, sim: &SimServe) -> PathBuf {
    let info: Value = serde_json::from_str(&sim.request("GET", "/sim/info", None)).expect("json");
    let mut text = format!(
        "[api]\nurl = \"{}\"\napi_key_env = \"RUNBOOK_API_KEY\"\nrequest_timeout = \"2s\"\n\
         poll_interval = \"50ms\"\n\n",
        sim.url
    );
    for server in info["servers"].as_array().expect("servers") {
        let name = server["name"].as_str().unwrap_or_default();
        text.push_str(&format!(
            "[[servers]]\nname = \"{name}\"\nhost = \"{name}\"\napi = \"{}\"\n\n",
            server["api"].as_str().unwrap_or_default()
        ));
    }
    let console = |operation: &str| {
        format!(
            "[\"curl\", \"-sf\", \"-X\", \"POST\", \"-H\", \"Authorization: Bearer {KEY}\", \"{}/sim/console/{{server}}/{operation}\"]",
            sim.url
        )
    };
    text.push_str(&format!(
        "[console]\ntimeout = \"60s\"\nstop = {}\nstart = {}\nupgrade = {}\nbackup = {}\nrestore = {}\nstop_replication = {}\n",
        console("stop"),
        console("start"),
        console("upgrade?version={version}"),
        console("backup"),
        console("restore"),
        console("stop_replication"),
    ));
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(&path, text).expect("inventory written");
    path
}

/// A fleet file `dir/fleet.toml` of these clusters, each with its
/// inventory `NAME.toml`.
fn fleet_file(dir: &Path, names: &[&str]) -> PathBuf {
    let mut text = String::from("[defaults]\nset = { version = \"7.4.0\" }\n\n");
    for name in names {
        text.push_str(&format!(
            "[[clusters]]\nname = \"{name}\"\ninventory = \"{name}.toml\"\n\n"
        ));
    }
    let path = dir.join("fleet.toml");
    std::fs::write(&path, text).expect("fleet written");
    path
}

/// `runbook fleet ARGS` in `dir`, with the test key and its own lock folder.
fn fleet_command(dir: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(binary());
    command
        .current_dir(dir)
        .arg("fleet")
        .args(args)
        .env("NO_COLOR", "1")
        .env("RUNBOOK_API_KEY", KEY)
        .env("RUNBOOK_LOCK_DIR", dir.join("locks"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

fn fleet(dir: &Path, args: &[&str]) -> Output {
    fleet_command(dir, args)
        .output()
        .expect("runbook fleet runs")
}

/// The `--json` document, validated against `runbook schema fleet`.
fn fleet_document(output: &Output) -> Value {
    let document: Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|error| panic!("not one JSON document ({error}):\n{}", show(output)));
    let schema = runbook::cli::schema::published("fleet")
        .expect("a published fleet schema")
        .schema();
    let validator = jsonschema::validator_for(&schema).expect("the schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(&document)
        .map(|error| format!("{} at {}", error, error.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:?}\n{document:#}");
    document
}

fn cluster<'a>(document: &'a Value, name: &str) -> &'a Value {
    document["clusters"]
        .as_array()
        .expect("clusters")
        .iter()
        .find(|cluster| cluster["name"] == name)
        .unwrap_or_else(|| panic!("no cluster {name}: {document:#}"))
}

const UPGRADE: [&str; 5] = [
    "upgrade-with-downtime",
    "fleet.toml",
    "--yes",
    "--accept-data-loss",
    "--json",
];

#[test]
fn three_clusters_are_upgraded_in_parallel() {
    let dir = tempfile::tempdir().expect("temp dir");
    let names = ["emea-1", "emea-2", "apac-1"];
    let sims: Vec<SimServe> = names
        .iter()
        .map(|name| sim(dir.path(), name, FAST, &[]))
        .collect();
    for (name, sim) in names.iter().zip(&sims) {
        inventory(dir.path(), name, sim);
    }
    fleet_file(dir.path(), &names);
    let mut args = vec!["run"];
    args.extend(UPGRADE);
    args.extend(["--parallel", "3", "--journal-dir", "journals"]);
    let output = fleet(dir.path(), &args);
    assert_eq!(output.status.code(), Some(0), "{}", show(&output));
    let document = fleet_document(&output);
    assert_eq!(document["outcome"], "succeeded", "{document:#}");
    assert_eq!(document["counts"]["succeeded"], 3, "{document:#}");
    for (name, sim) in names.iter().zip(&sims) {
        // The simulator's own cluster, not what the runner says of it.
        assert_upgraded(&sim.cluster(), name);
        let result = cluster(&document, name);
        assert_eq!(result["state"], "succeeded", "{result:#}");
        let journal = dir.path().join("journals").join(format!("{name}.jsonl"));
        assert_eq!(count_records(&journal, "run_finished"), 1, "{name}");
        assert!(
            result["journal"]
                .as_str()
                .unwrap_or_default()
                .ends_with(&format!("{name}.jsonl")),
            "{result:#}"
        );
    }
}

#[test]
fn after_max_failures_no_new_cluster_starts() {
    let dir = tempfile::tempdir().expect("temp dir");
    let names = ["broken", "next-1", "next-2"];
    let sims: Vec<SimServe> = names
        .iter()
        .map(|name| {
            let faults: &[&str] = if *name == "broken" {
                &["unreachable:mgt-3"]
            } else {
                &[]
            };
            sim(dir.path(), name, FAST, faults)
        })
        .collect();
    for (name, sim) in names.iter().zip(&sims) {
        inventory(dir.path(), name, sim);
    }
    fleet_file(dir.path(), &names);
    let mut args = vec!["run"];
    args.extend(UPGRADE);
    args.extend(["--parallel", "1", "--max-failures", "1"]);
    let output = fleet(dir.path(), &args);
    assert_eq!(output.status.code(), Some(1), "{}", show(&output));
    let document = fleet_document(&output);
    assert_eq!(document["outcome"], "failed", "{document:#}");
    assert_eq!(cluster(&document, "broken")["state"], "failed");
    for name in ["next-1", "next-2"] {
        let result = cluster(&document, name);
        assert_eq!(result["state"], "not_started", "{result:#}");
        assert!(
            result["message"]
                .as_str()
                .unwrap_or_default()
                .contains("--max-failures"),
            "{result:#}"
        );
        // Nothing was done to it: every server still on its first version.
        let untouched = sims[names.iter().position(|n| n == &name).unwrap_or(0)].cluster();
        assert!(
            untouched
                .servers
                .iter()
                .all(|server| server.version.to_string() == crate::support::INITIAL),
            "{untouched:#?}"
        );
        assert!(!dir.path().join(format!("runs/fleet/{name}.jsonl")).exists());
    }
    // The human table says so too.
    let human = fleet(
        dir.path(),
        &[
            "run",
            "upgrade-with-downtime",
            "fleet.toml",
            "--yes",
            "--parallel",
            "1",
            "--max-failures",
            "1",
            "--journal-dir",
            "again",
        ],
    );
    assert_eq!(human.status.code(), Some(1), "{}", show(&human));
    let table = text(&human.stdout);
    assert!(table.contains("next-1   not started"), "{}", show(&human));
}

/// Kills the fleet (SIGKILL) in the middle of two clusters' runs, then
/// resumes it: every cluster ends upgraded and no completed step ran twice.
/// The clusters are `target = "http://..."`: an operation the kill left in
/// flight is then waited for on the simulator's clock (through an
/// inventory, the runner cannot know the simulator's speed and waits for
/// it in real time, as for a real installer: up to half an hour).
#[cfg(unix)]
#[test]
fn a_killed_fleet_resumes_without_repeating_a_step() {
    let dir = tempfile::tempdir().expect("temp dir");
    let names = ["kill-1", "kill-2", "kill-3"];
    // The simulator's default speed: a run takes seconds, as a rehearsal does.
    let sims: Vec<SimServe> = names
        .iter()
        .map(|name| sim(dir.path(), name, 600, &[]))
        .collect();
    let mut text = String::new();
    for (name, sim) in names.iter().zip(&sims) {
        text.push_str(&format!(
            "[[clusters]]\nname = \"{name}\"\ntarget = \"{}\"\n\n",
            sim.url
        ));
    }
    std::fs::write(dir.path().join("fleet.toml"), text).expect("fleet");
    let journals: Vec<PathBuf> = names
        .iter()
        .map(|name| dir.path().join("runs/fleet").join(format!("{name}.jsonl")))
        .collect();
    let mut args = vec!["run"];
    args.extend(UPGRADE);
    args.extend(["--parallel", "2"]);
    let mut child = fleet_command(dir.path(), &args)
        .spawn()
        .expect("fleet starts");
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        // Both running clusters past a few steps: killed in their middle.
        let steps: Vec<usize> = journals
            .iter()
            .map(|journal| count_records(journal, "step_finished"))
            .collect();
        if steps.iter().filter(|count| **count >= 3).count() >= 2 {
            break;
        }
        if child.try_wait().ok().flatten().is_some() || Instant::now() > deadline {
            let output = child.wait_with_output().expect("output");
            panic!("the fleet ended before the kill: {}", show(&output));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().expect("killed");
    let _ = child.wait();
    let unfinished = journals
        .iter()
        .filter(|journal| count_records(journal, "run_finished") == 0)
        .count();
    assert!(unfinished >= 2, "the kill left clusters in their middle");
    let output = fleet(
        dir.path(),
        &[
            "resume",
            "fleet.toml",
            "--yes",
            "--accept-data-loss",
            "--json",
            "--journal-dir",
            "runs/fleet",
        ],
    );
    assert_eq!(output.status.code(), Some(0), "{}", show(&output));
    let document = fleet_document(&output);
    assert_eq!(document["resumed"], true);
    for ((name, sim), journal) in names.iter().zip(&sims).zip(&journals) {
        assert_upgraded(&sim.cluster(), name);
        let repeated: Vec<(String, usize)> = finished_ok_per_step(journal)
            .into_iter()
            .filter(|(_, times)| *times > 1)
            .collect();
        assert!(
            repeated.is_empty(),
            "{name}: steps done twice: {repeated:?}"
        );
        let result = cluster(&document, name);
        assert_eq!(result["state"], "succeeded", "{result:#}");
        let resumed = records(journal)
            .iter()
            .any(|record| record["record"] == "resumed");
        // A cluster killed in its middle was continued, one never
        // started was started.
        assert_eq!(result["resumed"] == true, resumed, "{result:#}");
    }
}

/// Every refusal of the fleet file, all at once, before anything acts.
#[test]
fn input_refusals_point_into_the_fleet_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let inventory = "[api]\nurl = \"http://127.0.0.1:1\"\napi_key_env = \"RUNBOOK_API_KEY\"\n\n\
                     [[servers]]\nname = \"mgt-1\"\nhost = \"mgt-1\"\n";
    std::fs::write(dir.path().join("good.toml"), inventory).expect("inventory");
    std::fs::write(dir.path().join("answers.toml"), "confirm-dowtime = true\n").expect("answers");
    std::fs::write(
        dir.path().join("fleet.toml"),
        "[[clusters]]\nname = \"emea-1\"\ninventory = \"missing.toml\"\n\n\
         [[clusters]]\nname = \"emea-2\"\ninventory = \"good.toml\"\nset = { verison = \"7.4.0\" }\n\n\
         [[clusters]]\nname = \"emea-3\"\ninventory = \"good.toml\"\nanswers = \"answers.toml\"\n",
    )
    .expect("fleet");
    let output = fleet(dir.path(), &["run", "upgrade-with-downtime", "fleet.toml"]);
    assert_eq!(output.status.code(), Some(2), "{}", show(&output));
    assert!(output.stdout.is_empty(), "{}", show(&output));
    assert!(!dir.path().join("runs").exists(), "nothing was written");
    insta::assert_snapshot!("refusals", text(&output.stderr));

    std::fs::write(
        dir.path().join("fleet.toml"),
        "[[clusters]]\nname = \"emea-1\"\ninventory = \"good.toml\"\n\n\
         [[clusters]]\nname = \"emea-1\"\ninventory = \"good.toml\"\n\n\
         [[clusters]]\nname = \"../escape\"\ninventory = \"good.toml\"\n",
    )
    .expect("fleet");
    let output = fleet(dir.path(), &["run", "upgrade-with-downtime", "fleet.toml"]);
    assert_eq!(output.status.code(), Some(2), "{}", show(&output));
    insta::assert_snapshot!("duplicates", text(&output.stderr));
}

/// Ctrl-C (SIGINT) stops every running cluster after its current step,
/// resumably, and starts no other; `fleet resume` finishes them all.
#[cfg(unix)]
#[test]
fn ctrl_c_stops_every_cluster_resumably() {
    let dir = tempfile::tempdir().expect("temp dir");
    let names = ["int-1", "int-2", "int-3"];
    let sims: Vec<SimServe> = names
        .iter()
        .map(|name| sim(dir.path(), name, 600, &[]))
        .collect();
    for (name, sim) in names.iter().zip(&sims) {
        inventory(dir.path(), name, sim);
    }
    fleet_file(dir.path(), &names);
    let journals: Vec<PathBuf> = names
        .iter()
        .map(|name| dir.path().join("runs/fleet").join(format!("{name}.jsonl")))
        .collect();
    let mut args = vec!["run"];
    args.extend(UPGRADE);
    args.extend(["--parallel", "2"]);
    let child = fleet_command(dir.path(), &args)
        .spawn()
        .expect("fleet starts");
    let deadline = Instant::now() + Duration::from_secs(120);
    while journals[..2]
        .iter()
        .any(|journal| count_records(journal, "step_finished") < 2)
    {
        assert!(Instant::now() < deadline, "the clusters never got going");
        std::thread::sleep(Duration::from_millis(20));
    }
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let output = child.wait_with_output().expect("the fleet ends");
    assert_eq!(output.status.code(), Some(1), "{}", show(&output));
    let document = fleet_document(&output);
    assert_eq!(document["outcome"], "stopped", "{document:#}");
    for name in &names[..2] {
        assert_eq!(cluster(&document, name)["state"], "stopped", "{document:#}");
    }
    assert_eq!(cluster(&document, "int-3")["state"], "not_started");
    assert!(!journals[2].exists(), "the third cluster never started");
    let output = fleet(
        dir.path(),
        &[
            "resume",
            "fleet.toml",
            "--yes",
            "--accept-data-loss",
            "--json",
        ],
    );
    assert_eq!(output.status.code(), Some(0), "{}", show(&output));
    for ((name, sim), journal) in names.iter().zip(&sims).zip(&journals) {
        assert_upgraded(&sim.cluster(), name);
        assert!(
            finished_ok_per_step(journal)
                .values()
                .all(|times| *times == 1),
            "{name}: a step done twice"
        );
    }
}

/// Without a terminal, a prompt nothing answers stops its cluster where it
/// is, resumably; `fleet resume` with an answers file continues it. The
/// clusters here are `target = "http://..."` (a `sim serve` each).
#[test]
fn an_unanswerable_prompt_stops_its_cluster_resumably() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sims: Vec<SimServe> = ["p-1", "p-2"]
        .iter()
        .map(|name| sim(dir.path(), name, FAST, &[]))
        .collect();
    let clusters = format!(
        "[[clusters]]\nname = \"p-1\"\ntarget = \"{}\"\n\n[[clusters]]\nname = \"p-2\"\ntarget = \"{}\"\n",
        sims[0].url, sims[1].url
    );
    std::fs::write(dir.path().join("fleet.toml"), &clusters).expect("fleet");
    let runbook = crate::support::manifest_dir()
        .join("tests/fixtures/tty/fleet-prompt.runbook")
        .display()
        .to_string();
    let output = fleet(dir.path(), &["run", &runbook, "fleet.toml", "--json"]);
    assert_eq!(output.status.code(), Some(1), "{}", show(&output));
    let document = fleet_document(&output);
    for name in ["p-1", "p-2"] {
        let result = cluster(&document, name);
        assert_eq!(result["state"], "stopped", "{result:#}");
        assert_eq!(
            result["code"], "runbook::run::prompt_unavailable",
            "{result:#}"
        );
    }
    std::fs::write(dir.path().join("answers.toml"), "proceed = true\n").expect("answers");
    std::fs::write(
        dir.path().join("fleet.toml"),
        format!("[defaults]\nanswers = \"answers.toml\"\n\n{clusters}"),
    )
    .expect("fleet");
    let output = fleet(dir.path(), &["resume", "fleet.toml", "--json"]);
    assert_eq!(output.status.code(), Some(0), "{}", show(&output));
    let document = fleet_document(&output);
    for name in ["p-1", "p-2"] {
        let result = cluster(&document, name);
        assert_eq!(result["state"], "succeeded", "{result:#}");
        assert_eq!(result["resumed"], true, "{result:#}");
    }
    // Run again, the fleet has nothing left to do: each cluster is
    // reported as finished before.
    let output = fleet(dir.path(), &["resume", "fleet.toml", "--json"]);
    assert_eq!(output.status.code(), Some(0), "{}", show(&output));
    let document = fleet_document(&output);
    assert!(
        document["clusters"]
            .as_array()
            .expect("clusters")
            .iter()
            .all(|cluster| cluster["skipped"] == true && cluster["state"] == "succeeded"),
        "{document:#}"
    );
}

/// The texts a webhook received, each with the `cluster` of its payload.
fn posted(received: &std::sync::Mutex<Vec<Value>>) -> Vec<(String, String)> {
    received
        .lock()
        .expect("bodies")
        .iter()
        .map(|body| {
            (
                body["cluster"].as_str().unwrap_or("?").to_owned(),
                body["text"].as_str().unwrap_or("?").to_owned(),
            )
        })
        .collect()
}

/// Each cluster posts to the webhooks of its own inventory and to the
/// fleet's `--notify`, on `fleet run` and on `fleet resume`, every text
/// naming its cluster.
#[test]
fn each_cluster_notifies_its_inventorys_webhooks_and_the_fleets() {
    let dir = tempfile::tempdir().expect("temp dir");
    let names = ["n-1", "n-2"];
    let (common, to_all) = crate::notify::webhook();
    let mut own = Vec::new();
    let mut sims = Vec::new();
    for name in names {
        let sim = sim(dir.path(), name, FAST, &[]);
        let path = inventory(dir.path(), name, &sim);
        let (url, received) = crate::notify::webhook();
        let text = std::fs::read_to_string(&path).expect("inventory");
        std::fs::write(&path, format!("notify = [\"{url}\"]\n\n{text}")).expect("inventory");
        own.push(received);
        sims.push(sim);
    }
    // The runbook has no parameter: no `[defaults] set`.
    let clusters: String = names
        .iter()
        .map(|name| format!("[[clusters]]\nname = \"{name}\"\ninventory = \"{name}.toml\"\n\n"))
        .collect();
    std::fs::write(dir.path().join("fleet.toml"), clusters).expect("fleet");
    let runbook = crate::support::manifest_dir()
        .join("tests/fixtures/tty/fleet-prompt.runbook")
        .display()
        .to_string();
    // No answer and no terminal: each cluster stops at its prompt.
    let output = fleet(
        dir.path(),
        &["run", &runbook, "fleet.toml", "--json", "--notify", &common],
    );
    assert_eq!(output.status.code(), Some(1), "{}", show(&output));
    let output = fleet(
        dir.path(),
        &[
            "resume",
            "fleet.toml",
            "--yes",
            "--json",
            "--notify",
            &common,
        ],
    );
    assert_eq!(output.status.code(), Some(0), "{}", show(&output));
    for (name, received) in names.iter().zip(&own) {
        let texts = posted(received);
        let who = format!("runbook fleet-prompt (cluster {name})");
        let expected = [
            format!("{who} started on HA Management setup of {name}.toml"),
            // Failed at the prompt nobody could answer, resumably.
            format!("{who} failed: "),
            format!("{who} resumed on HA Management setup of {name}.toml"),
            format!("{who} succeeded: "),
        ];
        assert_eq!(texts.len(), expected.len(), "{name}: {texts:?}");
        for ((cluster, text), start) in texts.iter().zip(&expected) {
            assert_eq!(cluster, name, "{texts:?}");
            assert!(text.starts_with(start.as_str()), "{name}: {text:?}");
        }
        assert!(
            texts[1].1.contains("To continue: runbook resume"),
            "{texts:?}"
        );
        // The other cluster's inventory webhook heard nothing of this one.
        assert!(
            texts.iter().all(|(_, text)| text.starts_with(&who)),
            "{texts:?}"
        );
    }
    // The fleet's own webhook heard both, each naming its cluster.
    let texts = posted(&to_all);
    for name in names {
        let of_cluster: Vec<&(String, String)> = texts
            .iter()
            .filter(|(cluster, _)| cluster == name)
            .collect();
        assert_eq!(of_cluster.len(), 4, "{name}: {texts:?}");
        assert!(
            of_cluster.iter().all(
                |(_, text)| text.starts_with(&format!("runbook fleet-prompt (cluster {name})"))
            ),
            "{texts:?}"
        );
    }
    drop(sims);
}
