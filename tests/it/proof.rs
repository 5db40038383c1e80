//! Approved proofs through the binary: `verify --certificate` writes a
//! certificate only when everything is proven, two approvers make keys and
//! sign it, `run --require-proof --approvals 2` runs and journals the proof,
//! and each reason to refuse (a runbook or an import edited, another
//! cluster size, a tampered certificate, one approver twice, the requester
//! approving) stops the run with exit 2 before anything acts.

use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;

use crate::support::process::{command_in, flat, journal_header, run_in, show, text};

/// A folder with a copy of the shipped runbooks (`runbooks/...`), a
/// certificate of `upgrade-no-downtime` requested by alice, approved by
/// bob and carol, and their public keys in `trusted/`.
struct Approved {
    dir: tempfile::TempDir,
}

const RUNBOOK: &str = "runbooks/upgrade-no-downtime.runbook";

impl Approved {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        copy_runbooks(dir.path());
        let approved = Approved { dir };
        approved.ok(&[
            "verify",
            RUNBOOK,
            "--certificate",
            "cert.json",
            "--operator",
            "alice",
        ]);
        std::fs::create_dir(approved.path("trusted")).expect("trusted dir");
        for name in ["bob", "carol"] {
            approved.ok(&["keygen", "--out", &format!("{name}.key"), "--name", name]);
            std::fs::copy(
                approved.path(&format!("{name}.key.pub")),
                approved.path(&format!("trusted/{name}.key.pub")),
            )
            .expect("public key copied");
        }
        approved
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn ok(&self, args: &[&str]) -> Output {
        run_in(self.dir.path(), args, 0)
    }

    fn approve(&self, key: &str) -> Output {
        command_in(self.dir.path())
            .args(["approve", "cert.json", "--key", key])
            .output()
            .expect("approve runs")
    }

    /// `run RUNBOOK --yes --require-proof cert.json --approvals N
    /// --trusted-keys trusted EXTRA`.
    fn run(&self, approvals: usize, extra: &[&str]) -> Output {
        command_in(self.dir.path())
            .args(["run", RUNBOOK, "--yes", "--require-proof", "cert.json"])
            .args(["--approvals", &approvals.to_string()])
            .args(["--trusted-keys", "trusted", "--journal", "run.jsonl"])
            .args(extra)
            .env_remove("RUNBOOK_TRUSTED_KEYS")
            .output()
            .expect("runbook run runs")
    }

    /// The run is refused with `code` (exit 2), nothing journaled.
    fn refused(&self, output: &Output, code: &str) -> String {
        assert_eq!(output.status.code(), Some(2), "{}", show(output));
        let stderr = flat(&text(&output.stderr));
        assert!(stderr.contains(code), "{}", show(output));
        assert!(
            !self.path("run.jsonl").exists(),
            "a refused run wrote a journal"
        );
        stderr
    }

    fn certificate(&self) -> Value {
        serde_json::from_str(&std::fs::read_to_string(self.path("cert.json")).expect("read"))
            .expect("JSON")
    }
}

fn copy_runbooks(dir: &Path) {
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("runbooks");
    std::fs::create_dir_all(dir.join("runbooks/lib")).expect("folders");
    for folder in ["", "lib"] {
        for entry in std::fs::read_dir(shipped.join(folder)).expect("runbooks") {
            let path = entry.expect("entry").path();
            if path
                .extension()
                .is_some_and(|extension| extension == "runbook")
            {
                let name = path.file_name().expect("a name");
                std::fs::copy(&path, dir.join("runbooks").join(folder).join(name)).expect("copied");
            }
        }
    }
}

/// Appends one byte to a file.
fn touch(path: &Path) {
    let mut text = std::fs::read_to_string(path).expect("read");
    text.push('\n');
    std::fs::write(path, text).expect("written");
}

fn sha256(path: &Path) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(std::fs::read(path).expect("read")))
}

#[test]
fn a_proven_runbook_approved_twice_runs_and_its_journal_records_the_proof() {
    let approved = Approved::new();
    let certificate = approved.certificate();
    assert_eq!(certificate["format"], 1);
    assert_eq!(certificate["runbook"], "upgrade-no-downtime");
    assert_eq!(certificate["servers"], 3);
    assert_eq!(certificate["max_faults"], 2);
    assert_eq!(
        certificate["starting_states"],
        serde_json::json!(["healthy"])
    );
    assert_eq!(certificate["target_version"], "7.4.0");
    assert_eq!(certificate["parameters"]["version"], "7.4.0");
    assert_eq!(certificate["requested_by"], "alice");
    assert_eq!(certificate["signatures"], serde_json::json!([]));
    let properties: Vec<&str> = certificate["properties"]
        .as_array()
        .expect("properties")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(properties.contains(&"two_actives") && properties.contains(&"not_upgraded"));
    assert!(!properties.contains(&"window_overrun"), "no --window given");
    let sources = certificate["sources"].as_array().expect("sources");
    assert_eq!(sources[0]["file"], RUNBOOK);
    assert_eq!(
        sources[0]["sha256"],
        sha256(&approved.path(RUNBOOK)).as_str()
    );
    assert!(sources.len() > 1, "the imports are hashed too");
    assert_eq!(
        certificate["model"]["sha256"].as_str().map(str::len),
        Some(64)
    );

    for key in ["bob.key", "carol.key"] {
        let output = approved.approve(key);
        assert_eq!(output.status.code(), Some(0), "{}", show(&output));
    }
    let signatures = approved.certificate()["signatures"].clone();
    assert_eq!(signatures.as_array().map(Vec::len), Some(2));
    assert_eq!(signatures[0]["approver"], "bob");
    // The private key appears nowhere but in its file.
    let private = std::fs::read_to_string(approved.path("bob.key")).expect("key");
    let pkcs8: Value = serde_json::from_str(&private).expect("JSON key");
    let secret = pkcs8["pkcs8"].as_str().expect("pkcs8");
    assert!(!std::fs::read_to_string(approved.path("cert.json"))
        .expect("certificate")
        .contains(secret));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(approved.path("bob.key"))
            .expect("metadata")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    let output = approved.run(2, &[]);
    assert_eq!(output.status.code(), Some(0), "{}", show(&output));
    let header = journal_header(&approved.path("run.jsonl"));
    assert_eq!(
        header["proof"],
        serde_json::json!({
            "certificate_sha256": sha256(&approved.path("cert.json")),
            "runbook": "upgrade-no-downtime",
            "approvers": ["bob", "carol"],
        })
    );
}

#[test]
fn an_edited_runbook_or_import_is_refused_naming_the_file() {
    let approved = Approved::new();
    approved.approve("bob.key");
    approved.approve("carol.key");
    touch(&approved.path("runbooks/lib/exclude-server.runbook"));
    let stderr = approved.refused(&approved.run(2, &[]), "runbook::proof::source_changed");
    assert!(
        stderr.contains("runbooks/lib/exclude-server.runbook"),
        "{stderr}"
    );
    assert!(!stderr.contains(&format!("{RUNBOOK}:")), "{stderr}");

    touch(&approved.path(RUNBOOK));
    let stderr = approved.refused(&approved.run(2, &[]), "runbook::proof::source_changed");
    assert!(stderr.contains(RUNBOOK), "{stderr}");
}

#[test]
fn another_cluster_size_or_version_is_refused() {
    let approved = Approved::new();
    approved.approve("bob.key");
    let stderr = approved.refused(
        &approved.run(1, &["--sim-servers", "4"]),
        "runbook::proof::cluster_size",
    );
    assert!(stderr.contains("4 server(s)"), "{stderr}");
    approved.refused(
        &approved.run(1, &["--set", "version=7.5.0"]),
        "runbook::proof::parameters_differ",
    );
    // The same version written otherwise is the same value.
    let output = approved.run(1, &["--set", "version=7.4"]);
    assert_eq!(output.status.code(), Some(0), "{}", show(&output));
}

#[test]
fn a_tampered_certificate_is_refused() {
    let approved = Approved::new();
    approved.approve("bob.key");
    approved.approve("carol.key");
    let text = std::fs::read_to_string(approved.path("cert.json")).expect("read");
    let tampered = text.replace("\"max_faults\": 2", "\"max_faults\": 3");
    assert_ne!(tampered, text);
    std::fs::write(approved.path("cert.json"), tampered).expect("written");
    let stderr = approved.refused(&approved.run(2, &[]), "runbook::proof::bad_signature");
    assert!(
        stderr.contains("`bob`") && stderr.contains("`carol`"),
        "{stderr}"
    );
    // Nor is a changed certificate signed again.
    let output = approved.approve("bob.key");
    assert_eq!(output.status.code(), Some(1), "{}", show(&output));
}

#[test]
fn the_same_approver_twice_counts_once() {
    let approved = Approved::new();
    approved.approve("bob.key");
    let again = approved.approve("bob.key");
    assert_eq!(again.status.code(), Some(0), "{}", show(&again));
    assert!(text(&again.stdout).contains("counts one approval per key"));
    let stderr = approved.refused(&approved.run(2, &[]), "runbook::proof::too_few_approvals");
    assert!(stderr.contains("1 approval(s) counted"), "{stderr}");
    assert!(stderr.contains("counted once"), "{stderr}");
    // A key that is not trusted does not count either.
    approved.ok(&["keygen", "--out", "mallory.key", "--name", "mallory"]);
    approved.approve("mallory.key");
    let stderr = approved.refused(&approved.run(2, &[]), "runbook::proof::too_few_approvals");
    assert!(
        stderr.contains("`mallory`: its key is not a trusted key"),
        "{stderr}"
    );
}

#[test]
fn the_requester_cannot_approve_their_own_proof() {
    let approved = Approved::new();
    approved.ok(&["keygen", "--out", "alice.key", "--name", "alice"]);
    std::fs::copy(
        approved.path("alice.key.pub"),
        approved.path("trusted/alice.key.pub"),
    )
    .expect("copied");
    let output = approved.approve("alice.key");
    assert_eq!(output.status.code(), Some(1), "{}", show(&output));
    assert!(
        text(&output.stderr).contains("runbook::proof::self_approval"),
        "{}",
        show(&output)
    );
    assert_eq!(approved.certificate()["signatures"], serde_json::json!([]));

    // A signature made by hand, around `approve`, is not counted either.
    let mut certificate = runbook::proof::Certificate::parse(
        &std::fs::read_to_string(approved.path("cert.json")).expect("read"),
    )
    .expect("a certificate");
    let signer = runbook::proof::keys::Signer::load(&approved.path("alice.key")).expect("key");
    let statement = certificate
        .body
        .statement("alice", "2026-12-07T10:00:00Z")
        .bytes();
    certificate.signatures.push(runbook::proof::Approval {
        approver: String::from("alice"),
        public_key: signer.public_key(),
        signed_at: String::from("2026-12-07T10:00:00Z"),
        signature: signer.sign(&statement),
    });
    std::fs::write(approved.path("cert.json"), certificate.to_text()).expect("written");
    let stderr = approved.refused(&approved.run(1, &[]), "runbook::proof::too_few_approvals");
    assert!(stderr.contains("they requested the proof"), "{stderr}");

    // A certificate made to allow it lets the requester approve.
    approved.ok(&[
        "verify",
        RUNBOOK,
        "--certificate",
        "cert.json",
        "--operator",
        "alice",
        "--allow-self-approval",
    ]);
    let output = approved.approve("alice.key");
    assert_eq!(output.status.code(), Some(0), "{}", show(&output));
    let output = approved.run(1, &[]);
    assert_eq!(output.status.code(), Some(0), "{}", show(&output));
}

#[test]
fn no_certificate_is_written_without_a_proof() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("refused.runbook"),
        "runbook refused {\n    title \"A refused operation\"\n    step exclude-active \"Exclude the Active\" {\n        exclude(server: active())\n    }\n}\n",
    )
    .expect("written");
    let output = command_in(dir.path())
        .args(["verify", "refused.runbook", "--certificate", "cert.json"])
        .output()
        .expect("verify runs");
    assert_eq!(output.status.code(), Some(1), "{}", show(&output));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("runbook::proof::not_proven"),
        "{}",
        show(&output)
    );
    assert!(
        stderr.contains("no certificate written"),
        "{}",
        show(&output)
    );
    assert!(!dir.path().join("cert.json").exists());
}

/// A certificate or a public key file that is not one is quoted where it
/// goes wrong, with a help line: JSON cut by a stray comma (`approve`), a
/// value of the wrong type or another format (`run --require-proof`), a
/// trusted key of another kind.
#[test]
fn malformed_certificates_and_keys_are_quoted_where_they_go_wrong() {
    let dir = tempfile::tempdir().expect("temp dir");
    let write =
        |name: &str, text: &str| std::fs::write(dir.path().join(name), text).expect("written");
    let stderr = |args: &[&str]| {
        let output = command_in(dir.path())
            .args(args)
            .env_remove("RUNBOOK_TRUSTED_KEYS")
            .output()
            .expect("runbook runs");
        assert_eq!(output.status.code(), Some(2), "{}", show(&output));
        assert!(!dir.path().join("run.jsonl").exists());
        text(&output.stderr)
    };
    write(
        "comma.json",
        "{\n  \"format\": 1,\n  \"runbook\": \"upgrade-no-downtime\",\n  \"servers\": 3,\n}\n",
    );
    write(
        "type.json",
        "{\n  \"format\": 1,\n  \"runbook\": \"upgrade-no-downtime\",\n  \"servers\": \"three\"\n}\n",
    );
    write(
        "format.json",
        "{\n  \"format\": 2,\n  \"runbook\": \"upgrade-no-downtime\",\n  \"proof\": {}\n}\n",
    );
    write("bob.key", "not read: the certificate is refused first\n");
    let run = |certificate: &'static str| {
        [
            "run",
            "upgrade-no-downtime",
            "--yes",
            "--require-proof",
            certificate,
            "--approvals",
            "0",
            "--journal",
            "run.jsonl",
        ]
    };
    let mut all = String::new();
    for (title, args) in [
        (
            "approve comma.json",
            &["approve", "comma.json", "--key", "bob.key"][..],
        ),
        ("run --require-proof type.json", &run("type.json")[..]),
        ("run --require-proof format.json", &run("format.json")[..]),
    ] {
        all.push_str(&format!("$ runbook {title}\n{}\n", stderr(args)));
    }

    // A trusted key file that is not a public key, with a certificate
    // that is right otherwise.
    let approved = Approved::new();
    std::fs::write(
        approved.path("trusted/dave.key.pub"),
        "{\n  \"kind\": \"runbook-approver-private-key\",\n  \"algorithm\": \"ed25519\",\n  \"name\": \"dave\",\n  \"public_key\": \"00\"\n}\n",
    )
    .expect("written");
    let output = approved.run(1, &[]);
    approved.refused(&output, "runbook::proof::trusted_keys");
    all.push_str(&format!(
        "$ runbook run --require-proof cert.json --trusted-keys trusted\n{}",
        text(&output.stderr)
    ));
    insta::assert_snapshot!("malformed", all);
}
