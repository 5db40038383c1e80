//! `runbook::proof::*`: approved proofs — the certificate `verify
//! --certificate` writes, the approvers' keys and signatures (`keygen`,
//! `approve`), and why `run --require-proof` refuses to start
//! ([`crate::proof::require::ProofError`]).

use super::{Entry, Example, Phase, Severity};

/// The proof phase.
pub static PHASE: Phase = Phase {
    name: "proof",
    title: "Approved proofs",
    intro: "Reported by `runbook verify --certificate`, `runbook keygen`, `runbook approve` \
and `runbook run --require-proof`. A run that requires a proof is refused (exit 2) before \
anything acts on the cluster or is journaled, with every reason at once; see \
docs/change-management.md.",
    entries: ENTRIES,
};

static ENTRIES: &[Entry] = &[
    Entry {
        code: "runbook::proof::unreadable",
        severity: Severity::Error,
        summary: "The proof certificate cannot be read.",
        cause: "The file given to `run --require-proof` or `approve` does not exist, is not \
JSON, is not a certificate (a field missing, a value of the wrong type), or is of a format \
this version does not read. When the file could be read, the diagnostic quotes it where it \
goes wrong (line, column, excerpt).",
        example: Some(
            Example::command(
                "runbook run upgrade-no-downtime --yes --require-proof cert.json --approvals 0",
            )
            .with_file(
                "cert.json",
                "{\n  \"format\": 1,\n  \"runbook\": \"upgrade-no-downtime\",\n  \"servers\": \"three\"\n}\n",
            ),
        ),
        fix: "Give the file `runbook verify RUNBOOK --certificate FILE` wrote (and approvers \
signed); a certificate edited by hand is verified and approved again.",
    },
    Entry {
        code: "runbook::proof::source_changed",
        severity: Severity::Error,
        summary: "A file of the runbook (or an import) is not the text the certificate proves.",
        cause: "The certificate records the SHA-256 of the runbook and of every file it \
imports, in load order. One of them changed since (one byte is enough), the runbook imports \
a file the proof did not cover or no longer imports one it did, or the certificate proves \
another runbook. The message names the file.",
        example: Some(Example::command(
            "runbook verify upgrade-no-downtime --certificate cert.json >/dev/null
runbook show upgrade-no-downtime > example.runbook
echo '// edited' >> example.runbook
runbook run example.runbook --yes --require-proof cert.json --approvals 0",
        )),
        fix: "Run the files the certificate proves, or verify the new text \
(`runbook verify RUNBOOK --certificate FILE`) and have that certificate approved.",
    },
    Entry {
        code: "runbook::proof::cluster_size",
        severity: Severity::Error,
        summary: "The target's cluster has another number of servers than the proof is for.",
        cause: "A proof holds for the number of servers it was verified with (`verify \
--servers N`, 3 by default); the run read another number of servers from the target.",
        example: Some(Example::command(
            "runbook verify upgrade-no-downtime --certificate cert.json >/dev/null
runbook run upgrade-no-downtime --yes --sim-servers 4 --require-proof cert.json --approvals 0",
        )),
        fix: "Run on the cluster the proof is for, or verify the runbook for this one \
(`--servers N`) and have that certificate approved.",
    },
    Entry {
        code: "runbook::proof::parameters_differ",
        severity: Severity::Error,
        summary: "A `--set` parameter differs from the value the proof was verified with.",
        cause: "The verifier proves a runbook with its parameters' defaults (the target \
version among them); the run sets one to another value (compared as the parameter's type: \
`7.4` is `7.4.0`).",
        example: Some(Example::command(
            "runbook verify upgrade-no-downtime --certificate cert.json >/dev/null
runbook run upgrade-no-downtime --yes --set version=7.5.0 --require-proof cert.json --approvals 0",
        )),
        fix: "Run with the values proven, or change the runbook's default, verify it again \
and have that certificate approved.",
    },
    Entry {
        code: "runbook::proof::bad_signature",
        severity: Severity::Error,
        summary: "A signature of the certificate does not verify: it was changed after signing.",
        cause: "Each approval signs the SHA-256 of the certificate's canonical body with the \
approver's name and time (docs/change-management.md). Any change to the body (a hash, the \
servers, the properties) or to the signature's own fields breaks it. `run --require-proof` \
refuses a certificate with any broken signature, however many others verify, and \
`approve` refuses to sign it; the diagnostic quotes the signature's entry in the certificate.",
        example: Some(Example::command(
            "runbook verify upgrade-no-downtime --certificate cert.json >/dev/null
runbook keygen --out bob.key --name bob >/dev/null
runbook approve cert.json --key bob.key >/dev/null
sed -i.bak 's/\"servers\": 3/\"servers\": 4/' cert.json
runbook run upgrade-no-downtime --yes --sim-servers 4 --require-proof cert.json --trusted-keys bob.key.pub",
        )),
        fix: "Use the certificate as it was approved. A certificate that must say something \
else is verified and approved again.",
    },
    Entry {
        code: "runbook::proof::too_few_approvals",
        severity: Severity::Error,
        summary: "Fewer distinct trusted approvers signed the certificate than `--approvals N`.",
        cause: "A signature counts when its key and name are those of a trusted key \
(`--trusted-keys`), its approver did not request the proof (unless the certificate allows \
it) and no counted signature has the same name or the same key. The help line says which \
signatures were not counted and why.",
        example: Some(Example::command(
            "runbook verify upgrade-no-downtime --certificate cert.json --operator alice >/dev/null
runbook keygen --out bob.key --name bob >/dev/null
runbook approve cert.json --key bob.key >/dev/null
runbook approve cert.json --key bob.key >/dev/null
runbook run upgrade-no-downtime --yes --require-proof cert.json --approvals 2 --trusted-keys bob.key.pub",
        )),
        fix: "Have more approvers sign it, each with their own key (`runbook approve CERT \
--key KEY`), and add their `KEY.pub` files to the trusted keys.",
    },
    Entry {
        code: "runbook::proof::trusted_keys",
        severity: Severity::Error,
        summary: "The trusted public keys cannot be read, or none were named.",
        cause: "`run --require-proof` with `--approvals N` (1 by default) counts only \
signatures made with trusted keys: `--trusted-keys` (or `RUNBOOK_TRUSTED_KEYS`) names a \
`KEY.pub` file or a folder of them. None was named, or one is not a public key made by \
`runbook keygen` (the diagnostic then quotes that file where it goes wrong).",
        example: Some(Example::command(
            "runbook verify upgrade-no-downtime --certificate cert.json >/dev/null
runbook run upgrade-no-downtime --yes --require-proof cert.json",
        )),
        fix: "Name the approvers' public keys with `--trusted-keys DIR|FILE`, or require no \
approval with `--approvals 0`.",
    },
    Entry {
        code: "runbook::proof::self_approval",
        severity: Severity::Error,
        summary: "The approver requested the proof, and the certificate excludes its requester.",
        cause: "A certificate records who requested it (`verify --operator`, \
`RUNBOOK_OPERATOR`, the operating system's user). Unless it was made with `verify \
--allow-self-approval`, `approve` refuses that name, and `run --require-proof` does not \
count a signature in that name.",
        example: Some(Example::command(
            "runbook verify upgrade-no-downtime --certificate cert.json --operator alice >/dev/null
runbook keygen --out alice.key --name alice >/dev/null
runbook approve cert.json --key alice.key",
        )),
        fix: "Another person approves it. Where one person may both request and approve, \
make the certificate with `runbook verify --allow-self-approval`.",
    },
    Entry {
        code: "runbook::proof::not_proven",
        severity: Severity::Error,
        summary: "`verify --certificate`: not every property was proven, so no certificate is written.",
        cause: "A certificate is written only when the verifier explored every path to its \
end and no property broke: a counterexample, or an exploration cut by its state limit, \
leaves nothing to certify. The verifier's report above says why.",
        example: Some(Example::run(
            r#"
runbook demo {
    title "A refused operation"
    step exclude-active "Exclude the Active" {
        exclude(server: active())
    }
}
"#,
            "runbook verify example.runbook --certificate cert.json",
        )),
        fix: "Fix the counterexamples the verifier reports and verify again.",
    },
    Entry {
        code: "runbook::proof::file",
        severity: Severity::Error,
        summary: "A key cannot be made or read, or a certificate cannot be written.",
        cause: "`keygen` never overwrites a key (the private key or its `KEY.pub` exists), \
`approve --key` was given a file that is not a private key made by `keygen`, or the folder \
cannot be written.",
        example: Some(Example::command(
            "runbook keygen --out bob.key --name bob >/dev/null
runbook keygen --out bob.key --name bob",
        )),
        fix: "Choose another file for a new key, give `approve` your private key file, or \
write to a folder you can write to.",
    },
];
