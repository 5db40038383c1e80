//! `runbook keygen --out KEY [--name NAME]` (an approver's Ed25519 key
//! pair) and `runbook approve CERT --key KEY [--name NAME]` (a signature
//! added to a proof certificate); the certificate `verify --certificate`
//! writes. The private key is never printed.

// A proof error quotes its file (an excerpt and a span): built at most once
// per command, when it is refused.
#![allow(clippy::result_large_err)]

use std::path::{Path, PathBuf};

use super::run::report;
use super::stdout::outln;
use crate::check::verify::{Property, VerifyReport};
use crate::interp::journal::Actor;
use crate::interp::program::Program;
use crate::proof::keys::{self, Signer};
use crate::proof::require::{self, ProofError};
use crate::proof::{Certificate, CertificateBody, ModelFingerprint, CERTIFICATE_FORMAT};

/// Arguments of `runbook keygen`.
#[derive(Debug, Clone, clap::Args)]
pub struct KeygenArgs {
    /// The private key file to create (never overwritten; mode 0600); the
    /// public key goes to `KEY.pub`.
    #[arg(long, value_name = "KEY")]
    pub out: PathBuf,
    /// The approver's name, written in both files (default:
    /// `RUNBOOK_OPERATOR`, else the operating system's user).
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
}

/// Arguments of `runbook approve`.
#[derive(Debug, Clone, clap::Args)]
pub struct ApproveArgs {
    /// The certificate (`runbook verify --certificate FILE`), signed in place.
    pub certificate: PathBuf,
    /// Your private key (`runbook keygen --out KEY`).
    #[arg(long, value_name = "KEY")]
    pub key: PathBuf,
    /// The name you approve as (default: the name in the key file).
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
}

/// `runbook keygen`: 0 made, 2 not.
pub fn keygen(args: KeygenArgs) -> i32 {
    let name = args
        .name
        .clone()
        .filter(|name| !name.trim().is_empty())
        .unwrap_or_else(|| Actor::resolve(None).operator);
    match keys::generate(&args.out, &name) {
        Ok(public) => {
            outln!(
                "{}",
                crate::wrap::wrap(
                    &format!(
                        "Made an Ed25519 key pair for `{name}`: the private key is in {} (readable by you only: keep it secret, it is never printed), the public key in {} — give that file to whoever runs with `--trusted-keys`.",
                        args.out.display(),
                        keys::public_path(&args.out).display()
                    ),
                    width()
                )
            );
            outln!("public key: {}", public.public_key);
            0
        }
        Err(error) => {
            report(ProofError::File {
                reason: error.message,
            });
            2
        }
    }
}

/// `runbook approve`: 0 signed, 1 refused, 2 unreadable input.
pub fn approve(args: ApproveArgs) -> i32 {
    let path = args.certificate.display().to_string();
    let text = match std::fs::read_to_string(&args.certificate) {
        Ok(text) => text,
        Err(error) => {
            report(ProofError::unreadable(path, error.to_string()));
            return 2;
        }
    };
    let mut certificate = match Certificate::parse(&text) {
        Ok(certificate) => certificate,
        Err(malformed) => {
            report(ProofError::malformed(&path, &text, malformed));
            return 2;
        }
    };
    let signer = match Signer::load(&args.key) {
        Ok(signer) => signer,
        Err(error) => {
            report(ProofError::File {
                reason: error.message,
            });
            return 2;
        }
    };
    // A certificate changed since it was signed is not signed again.
    let file = require::CertificateFile {
        path: &path,
        text: &text,
    };
    let broken = require::bad_signatures(&certificate, file);
    if !broken.is_empty() {
        for error in broken {
            report(error);
        }
        return 1;
    }
    let approver = args
        .name
        .clone()
        .filter(|name| !name.trim().is_empty())
        .unwrap_or_else(|| signer.name.clone());
    let already = certificate
        .signatures
        .iter()
        .any(|approval| approval.public_key == signer.public_key());
    let signed_at = crate::interp::window::rfc3339(time::OffsetDateTime::now_utc());
    if let Err(error) = require::approve(&mut certificate, &signer, &approver, &signed_at) {
        report(error);
        return 1;
    }
    if let Err(reason) = write_certificate(&args.certificate, &certificate) {
        report(ProofError::File { reason });
        return 2;
    }
    let mut said = format!(
        "{} approved by `{approver}` ({} signature(s) now).",
        args.certificate.display(),
        certificate.signatures.len()
    );
    if already {
        said.push_str(
            " This key had signed it already: a run counts one approval per key and per name.",
        );
    }
    outln!("{}", crate::wrap::wrap(&said, width()));
    0
}

/// Writes the certificate of a proven verification to `path`; the
/// refusal when not every property was proven.
pub fn write_proof(
    path: &Path,
    report: &VerifyReport,
    program: &Program,
    settings: &CertificateSettings,
) -> Result<String, (ProofError, i32)> {
    if !report.proven() {
        let reason = if report.complete {
            format!(
                "{} counterexample(s): {}",
                report.counterexamples.len(),
                report
                    .counterexamples
                    .iter()
                    .map(|counterexample| counterexample.code.clone())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        } else {
            String::from("the exploration was cut by its state limit: not every path was explored")
        };
        return Err((
            ProofError::NotProven {
                path: path.display().to_string(),
                reason,
            },
            1,
        ));
    }
    let properties = Property::ALL
        .iter()
        .filter(|property| report.window.is_some() || **property != Property::WindowOverrun)
        .map(|property| property.name().to_string())
        .collect();
    let certificate = Certificate {
        body: CertificateBody {
            format: CERTIFICATE_FORMAT,
            runbook: program.name().to_string(),
            runbook_ref: program.reference.clone(),
            sources: require::sources(program),
            model: ModelFingerprint::current(),
            servers: report.servers,
            max_faults: report.max_faults,
            starting_states: settings.starting_states.clone(),
            target_version: report.target_version.to_string(),
            parameters: require::proven_parameters(program),
            prompt_seconds: report.prompt_time.as_secs(),
            window_seconds: report.window.map(|window| window.as_secs()),
            properties,
            states: report.states,
            paths: report.paths,
            tool_version: env!("CARGO_PKG_VERSION").to_string(),
            created_at: crate::interp::window::rfc3339(time::OffsetDateTime::now_utc()),
            requested_by: Actor::resolve(settings.operator.as_deref()).operator,
            requester_may_approve: settings.allow_self_approval,
        },
        signatures: Vec::new(),
    };
    write_certificate(path, &certificate).map_err(|reason| (ProofError::File { reason }, 2))?;
    Ok(certificate.body.sha256())
}

/// What `verify` adds to a certificate besides its report.
#[derive(Debug, Clone, Default)]
pub struct CertificateSettings {
    /// The states explored from ([`crate::proof::starting_states`]).
    pub starting_states: Vec<String>,
    /// `--operator`.
    pub operator: Option<String>,
    /// `--allow-self-approval`.
    pub allow_self_approval: bool,
}

/// Writes a certificate whole or not at all (a temporary file beside it, renamed).
fn write_certificate(path: &Path, certificate: &Certificate) -> Result<(), String> {
    let dir = path
        .parent()
        .filter(|dir| !dir.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut file = tempfile::NamedTempFile::new_in(dir)
        .map_err(|error| format!("cannot write `{}`: {error}", path.display()))?;
    std::io::Write::write_all(&mut file, certificate.to_text().as_bytes())
        .map_err(|error| format!("cannot write `{}`: {error}", path.display()))?;
    // Not a secret: approvers and runners read it.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = file
            .as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644));
    }
    file.persist(path)
        .map(|_| ())
        .map_err(|error| format!("cannot write `{}`: {}", path.display(), error.error))
}

fn width() -> usize {
    usize::from(console::Term::stdout().size().1).clamp(20, 100)
}
