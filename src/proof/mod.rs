//! Approved proofs: the certificate `runbook verify --certificate` writes
//! when every property is proven, the approvers' Ed25519 signatures over it
//! (`runbook keygen`, `runbook approve`), and what `runbook run
//! --require-proof` checks before anything acts ([`require`]).
//!
//! The certificate's canonical body — what is signed — is
//! [`CertificateBody`] serialized by `serde_json` without whitespace, its
//! fields in declaration order ([`CertificateBody::canonical`]).

pub mod keys;
pub mod locate;
pub mod require;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::interp::journal::SourceHash;

/// The version of the certificate's shape ([`CertificateBody::format`]).
pub const CERTIFICATE_FORMAT: u32 = 1;

/// What an approver's signature says, in its own words (see [`Statement`]).
pub const APPROVAL_PURPOSE: &str = "runbook approval of a proof certificate, format 1";

/// A proof certificate: what was proven, of which files, against which
/// model, and who approved it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Certificate {
    /// Everything but the signatures: what a signature covers.
    #[serde(flatten)]
    pub body: CertificateBody,
    /// The approvals, in the order they were added (`runbook approve`).
    #[serde(default)]
    pub signatures: Vec<Approval>,
}

/// The signed part of a certificate. Its canonical form is its
/// `serde_json` serialization without whitespace, fields in declaration
/// order: do not reorder them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CertificateBody {
    /// The certificate's shape version ([`CERTIFICATE_FORMAT`]).
    pub format: u32,
    /// The runbook's name.
    pub runbook: String,
    /// How the runbook was named to `verify` (a path or a shipped name).
    pub runbook_ref: String,
    /// Every source file (the runbook first, then its imports, in load
    /// order) with the SHA-256 of its text, as a run's journal records them.
    pub sources: Vec<SourceHash>,
    /// The cluster model the proof holds for.
    pub model: ModelFingerprint,
    /// Servers of the model (`--servers`): a run needs a cluster of this size.
    pub servers: usize,
    /// The most contract faults combined on a path (`--max-faults`).
    pub max_faults: usize,
    /// The states the exploration started from (`healthy`: `mgt-1` Active,
    /// the others Standby, replication up, all on the initial version).
    pub starting_states: Vec<String>,
    /// The version the runbook upgrades to.
    pub target_version: String,
    /// The parameters verified with (name → value as text): each
    /// parameter's default.
    pub parameters: BTreeMap<String, String>,
    /// The time each operator prompt counted for, in seconds (`--prompt-time`).
    pub prompt_seconds: u64,
    /// The maintenance window every path fits in, in seconds (`--window`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub window_seconds: Option<u64>,
    /// The properties proven, by the names the verifier reports them with.
    pub properties: Vec<String>,
    /// Distinct states explored.
    pub states: usize,
    /// Paths explored.
    pub paths: u64,
    /// The version of `runbook` that proved it.
    pub tool_version: String,
    /// When (RFC 3339, UTC).
    #[schemars(extend("format" = "date-time"))]
    pub created_at: String,
    /// Who asked for the proof (`--operator`, `RUNBOOK_OPERATOR`, the
    /// operating system's user).
    pub requested_by: String,
    /// Whether `requested_by` may approve it too (`verify
    /// --allow-self-approval`); otherwise `approve` refuses them and `run
    /// --require-proof` does not count their signature.
    pub requester_may_approve: bool,
}

/// The model a proof holds for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ModelFingerprint {
    /// The version of `runbook` the model comes with.
    pub version: String,
    /// Hex SHA-256 of the model's source ([`MODEL_SOURCES`]): the cluster
    /// model, its durations, faults and invariants, and the verifier's
    /// transition rules and properties. Any edit to them (a comment
    /// included) changes it.
    pub sha256: String,
}

/// The files whose text [`ModelFingerprint::sha256`] hashes, in order.
pub const MODEL_SOURCES: &[(&str, &str)] = &[
    ("src/cluster/model.rs", include_str!("../cluster/model.rs")),
    (
        "src/cluster/durations.rs",
        include_str!("../cluster/durations.rs"),
    ),
    (
        "src/cluster/faults.rs",
        include_str!("../cluster/faults.rs"),
    ),
    (
        "src/cluster/invariants.rs",
        include_str!("../cluster/invariants.rs"),
    ),
    (
        "src/check/verify/machine.rs",
        include_str!("../check/verify/machine.rs"),
    ),
    (
        "src/check/verify/property.rs",
        include_str!("../check/verify/property.rs"),
    ),
];

impl ModelFingerprint {
    /// The model of this build.
    pub fn current() -> Self {
        let mut hasher = Sha256::new();
        for (name, text) in MODEL_SOURCES {
            // Name and length first: no two lists of files hash alike.
            hasher.update(format!("{name}\n{}\n", text.len()).as_bytes());
            hasher.update(text.as_bytes());
        }
        Self {
            version: env!("CARGO_PKG_VERSION").to_string(),
            sha256: hex::encode(hasher.finalize()),
        }
    }
}

/// One approver's signature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Approval {
    /// The approver's name (from their key unless `approve --name`).
    pub approver: String,
    /// Their Ed25519 public key (hex, 32 bytes).
    pub public_key: String,
    /// When they signed (RFC 3339, UTC).
    #[schemars(extend("format" = "date-time"))]
    pub signed_at: String,
    /// The Ed25519 signature (hex, 64 bytes) of the [`Statement`].
    pub signature: String,
}

/// What an approver signs: the canonical body's SHA-256, their name and
/// the time, as `serde_json` writes this struct without whitespace (fields
/// in this order).
#[derive(Debug, Serialize)]
pub struct Statement<'a> {
    /// [`APPROVAL_PURPOSE`]: a signature made for something else never
    /// reads as an approval.
    pub purpose: &'static str,
    /// Hex SHA-256 of [`CertificateBody::canonical`].
    pub body_sha256: String,
    /// [`Approval::approver`].
    pub approver: &'a str,
    /// [`Approval::signed_at`].
    pub signed_at: &'a str,
}

impl Statement<'_> {
    /// The bytes signed.
    pub fn bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }
}

impl CertificateBody {
    /// The canonical bytes: `serde_json` without whitespace, fields in
    /// declaration order, absent optional fields left out.
    pub fn canonical(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// Hex SHA-256 of [`CertificateBody::canonical`].
    pub fn sha256(&self) -> String {
        hex::encode(Sha256::digest(self.canonical()))
    }

    /// What `approver` signs at `signed_at`.
    pub fn statement<'a>(&self, approver: &'a str, signed_at: &'a str) -> Statement<'a> {
        Statement {
            purpose: APPROVAL_PURPOSE,
            body_sha256: self.sha256(),
            approver,
            signed_at,
        }
    }

    /// Whether `name` is the requester and may not approve.
    pub fn excludes(&self, name: &str) -> bool {
        !self.requester_may_approve && name.trim() == self.requested_by.trim()
    }
}

impl Certificate {
    /// The certificate as written to its file (pretty JSON, a final newline).
    pub fn to_text(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).unwrap_or_default();
        text.push('\n');
        text
    }

    /// Reads a certificate's text; when it is not one, why and where.
    pub fn parse(text: &str) -> Result<Self, Malformed> {
        /// The format alone.
        #[derive(Deserialize)]
        struct Format {
            format: Option<u32>,
        }
        /// The signatures alone (the body's fields ignored).
        #[derive(Deserialize)]
        struct Signatures {
            #[serde(default)]
            signatures: Vec<Approval>,
        }
        // The body and the signatures are read apart, each straight from
        // the text, so that an error has its real line and column (a
        // flattened struct is read from a buffer, which has none).
        let located = |error: serde_json::Error| {
            let label = match error.classify() {
                serde_json::error::Category::Data => "not what a certificate holds here",
                serde_json::error::Category::Syntax => "not JSON here",
                serde_json::error::Category::Eof => "the file ends before the certificate does",
                serde_json::error::Category::Io => "here",
            };
            Malformed {
                span: Some(if error.classify() == serde_json::error::Category::Data {
                    locate::value_error_span(text, error.line(), error.column())
                } else {
                    locate::error_span(text, error.line(), error.column())
                }),
                label: label.to_string(),
                reason: error.to_string(),
            }
        };
        // The format first: another format's fields are not this one's.
        let Format { format } = serde_json::from_str(text).map_err(located)?;
        if let Some(format) = format.filter(|format| *format != CERTIFICATE_FORMAT) {
            return Err(Malformed {
                reason: format!(
                    "certificate format {format} (this runbook reads format {CERTIFICATE_FORMAT})"
                ),
                span: locate::value_span(text, &[locate::Step::Key("format")]),
                label: format!("format {CERTIFICATE_FORMAT} expected"),
            });
        }
        let body: CertificateBody = serde_json::from_str(text).map_err(located)?;
        let Signatures { signatures } = serde_json::from_str(text).map_err(located)?;
        Ok(Certificate { body, signatures })
    }
}

/// Why a text is not a certificate, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Malformed {
    /// What is wrong (`serde_json`'s words, with its line and column).
    pub reason: String,
    /// The bytes at fault, when known.
    pub span: Option<std::ops::Range<usize>>,
    /// What the excerpt's label says of them.
    pub label: String,
}

impl std::fmt::Display for Malformed {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(&self.reason)
    }
}

/// Hex SHA-256 of bytes.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The starting points a verification explored from, by name
/// (`healthy`, `split-brain:2`: every variant of the runbook's `from`
/// states, or of `verify --from STATE`); `healthy` when none is given.
pub fn starting_states(from: &[String]) -> Vec<String> {
    if from.is_empty() {
        vec![String::from("healthy")]
    } else {
        from.to_vec()
    }
}
