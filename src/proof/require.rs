//! What `runbook run --require-proof CERT` checks before anything acts on
//! the cluster, and the `runbook::proof::...` diagnostics of the proof
//! commands: the files are the ones proven, the cluster and the
//! parameters are the ones proven for, every signature verifies, and
//! enough distinct trusted approvers signed.

// A proof error quotes its file (an excerpt and a span): built at most once
// per command, when it is refused.
#![allow(clippy::result_large_err)]

use std::collections::BTreeMap;
use std::path::PathBuf;

use miette::{Diagnostic, NamedSource, SourceSpan};
use thiserror::Error;

use super::keys::{self, PublicKeyFile};
use super::locate::{self, Step};
use super::{Certificate, CertificateBody, Malformed};
use crate::interp::journal::{ProofRecord, SourceHash};
use crate::interp::program::Program;

/// An error of the proof commands, or a reason `run --require-proof` refuses.
#[derive(Debug, Error, Diagnostic)]
pub enum ProofError {
    /// The certificate cannot be read, or is not one.
    #[error("certificate {path}: {reason}")]
    #[diagnostic(
        code(runbook::proof::unreadable),
        help("give the file `runbook verify RUNBOOK --certificate FILE` wrote (and `runbook approve` signed); a certificate edited by hand is verified and approved again")
    )]
    Unreadable {
        /// The file.
        path: String,
        /// Why.
        reason: String,
        /// The certificate's text, when it could be read.
        #[source_code]
        source_code: Option<NamedSource<String>>,
        /// Where it goes wrong.
        #[label("{label}")]
        span: Option<SourceSpan>,
        /// What the label says.
        label: String,
    },
    /// A file of the runbook is not the one proven.
    #[error("{file}: {reason}")]
    #[diagnostic(
        code(runbook::proof::source_changed),
        help("the certificate proves other text: run the files it proved, or verify this text again (`runbook verify RUNBOOK --certificate FILE`) and have the new certificate approved")
    )]
    SourceChanged {
        /// The file, as loaded.
        file: String,
        /// How it differs.
        reason: String,
    },
    /// The target's cluster does not have the size the proof is for.
    #[error("the target has {servers} server(s); the certificate proves the runbook on {proven}")]
    #[diagnostic(
        code(runbook::proof::cluster_size),
        help("run it on the cluster the proof is for, or verify it for this one: `runbook verify RUNBOOK --servers {servers} --certificate FILE`")
    )]
    ClusterSize {
        /// Servers read from the target.
        servers: usize,
        /// Servers of the proof.
        proven: usize,
    },
    /// A parameter differs from the value verified with.
    #[error("parameter `{name}` is {value}; the certificate proves the runbook with {proven}")]
    #[diagnostic(
        code(runbook::proof::parameters_differ),
        help("run with the values proven (drop `--set {name}=...` or set it to {proven}), or verify the runbook with this value and have that certificate approved")
    )]
    ParametersDiffer {
        /// The parameter.
        name: String,
        /// Its value in this run.
        value: String,
        /// The value proven.
        proven: String,
    },
    /// A signature does not verify: the certificate (or the signature) was changed.
    #[error("the signature of `{approver}` (signature {index}) does not verify: the certificate was changed after it was signed")]
    #[diagnostic(
        code(runbook::proof::bad_signature),
        help("use the certificate as it was approved; a changed certificate must be verified and approved again")
    )]
    BadSignature {
        /// The approver the signature names.
        approver: String,
        /// Its position (1-based).
        index: usize,
        /// The certificate's text.
        #[source_code]
        source_code: Option<NamedSource<String>>,
        /// The signature's entry.
        #[label("this signature does not verify")]
        span: Option<SourceSpan>,
    },
    /// Fewer distinct trusted approvers signed than required.
    #[error("{counted} approval(s) counted; the run requires {required}")]
    #[diagnostic(code(runbook::proof::too_few_approvals))]
    TooFewApprovals {
        /// Distinct trusted approvers counted.
        counted: usize,
        /// `--approvals N`.
        required: usize,
        /// Which signatures were not counted, and why; what to do.
        #[help]
        help: String,
    },
    /// The trusted keys cannot be read, or none were named.
    #[error("trusted keys: {reason}")]
    #[diagnostic(
        code(runbook::proof::trusted_keys),
        help("name the approvers' public keys (`KEY.pub` files made by `runbook keygen`) with `--trusted-keys DIR|FILE` or `RUNBOOK_TRUSTED_KEYS`; `--approvals 0` requires no approval")
    )]
    TrustedKeys {
        /// Why.
        reason: String,
        /// The public key file at fault, when it could be read (a public
        /// key is no secret).
        #[source_code]
        source_code: Option<NamedSource<String>>,
        /// Where it goes wrong.
        #[label("{label}")]
        span: Option<SourceSpan>,
        /// What the label says.
        label: String,
    },
    /// The approver asked for the proof, and the certificate excludes them.
    #[error("`{approver}` requested this proof and may not approve it")]
    #[diagnostic(
        code(runbook::proof::self_approval),
        help("another person approves it; a certificate made with `runbook verify --allow-self-approval` lets its requester approve it too")
    )]
    SelfApproval {
        /// The approver.
        approver: String,
    },
    /// `verify --certificate`: not every property was proven.
    #[error("no certificate written to {path}: {reason}")]
    #[diagnostic(
        code(runbook::proof::not_proven),
        help("a certificate is written only when every property is proven on every path: fix the counterexamples above and verify again")
    )]
    NotProven {
        /// The certificate's path.
        path: String,
        /// What was not proven.
        reason: String,
    },
    /// A key cannot be made or read, or a certificate cannot be written.
    #[error("{reason}")]
    #[diagnostic(
        code(runbook::proof::file),
        help("`runbook keygen --out KEY --name NAME` makes a key pair (KEY, private, and KEY.pub); `runbook approve CERT --key KEY` signs with it; both need a folder you can write to")
    )]
    File {
        /// Why.
        reason: String,
    },
}

impl ProofError {
    /// The certificate at `path` cannot be read.
    pub fn unreadable(path: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::Unreadable {
            path: path.into(),
            reason: reason.into(),
            source_code: None,
            span: None,
            label: String::new(),
        }
    }

    /// The text of `path` is not a certificate: the excerpt at fault.
    pub fn malformed(path: &str, text: &str, malformed: Malformed) -> Self {
        Self::Unreadable {
            path: path.to_string(),
            reason: malformed.reason,
            source_code: malformed
                .span
                .is_some()
                .then(|| NamedSource::new(path, text.to_string())),
            span: malformed.span.map(Into::into),
            label: malformed.label,
        }
    }

    /// The trusted keys cannot be used, for `reason` alone.
    pub fn trusted_keys(reason: impl Into<String>) -> Self {
        Self::TrustedKeys {
            reason: reason.into(),
            source_code: None,
            span: None,
            label: String::new(),
        }
    }
}

impl From<keys::KeyError> for ProofError {
    /// A trusted key that cannot be used, with its file's excerpt when it
    /// has one.
    fn from(error: keys::KeyError) -> Self {
        match error.located {
            Some(located) => Self::TrustedKeys {
                reason: error.message,
                source_code: Some(NamedSource::new(located.file, located.text)),
                span: Some(located.span.into()),
                label: located.label,
            },
            None => Self::trusted_keys(error.message),
        }
    }
}

/// A certificate file as read: its name and its text (what the
/// diagnostics quote).
#[derive(Debug, Clone, Copy)]
pub struct CertificateFile<'a> {
    /// The path, as given.
    pub path: &'a str,
    /// Its text.
    pub text: &'a str,
}

/// What a run requires of its certificate.
#[derive(Debug, Clone)]
pub struct Requirement {
    /// The certificate file.
    pub path: PathBuf,
    /// `--approvals N`.
    pub approvals: usize,
    /// `--trusted-keys DIR|FILE` (or `RUNBOOK_TRUSTED_KEYS`).
    pub trusted_keys: Option<PathBuf>,
}

/// What the run is: its program, its parameters and the cluster's size.
#[derive(Debug, Clone, Copy)]
pub struct Candidate<'a> {
    /// The runbook with its imports.
    pub program: &'a Program,
    /// `--set` values, as given.
    pub params: &'a BTreeMap<String, String>,
    /// Servers read from the target.
    pub servers: usize,
}

/// Checks a run against its certificate: `Ok` with what the journal
/// records, or every reason to refuse.
pub fn require(
    requirement: &Requirement,
    run: Candidate<'_>,
) -> Result<ProofRecord, Vec<ProofError>> {
    let path = requirement.path.display().to_string();
    let bytes = std::fs::read(&requirement.path)
        .map_err(|error| vec![ProofError::unreadable(&path, error.to_string())])?;
    let text = std::str::from_utf8(&bytes)
        .map_err(|error| vec![ProofError::unreadable(&path, error.to_string())])?;
    let certificate = Certificate::parse(text)
        .map_err(|malformed| vec![ProofError::malformed(&path, text, malformed)])?;
    let file = CertificateFile { path: &path, text };
    let body = &certificate.body;
    let mut errors = sources_differ(body, run.program);
    if run.servers != body.servers {
        errors.push(ProofError::ClusterSize {
            servers: run.servers,
            proven: body.servers,
        });
    }
    errors.extend(parameters_differ(body, run.program, run.params));
    let approvers = match approvals(&certificate, file, requirement) {
        Ok(approvers) => approvers,
        Err(more) => {
            errors.extend(more);
            Vec::new()
        }
    };
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(ProofRecord {
        certificate_sha256: super::sha256_hex(&bytes),
        runbook: body.runbook.clone(),
        approvers,
    })
}

/// Each file of the program against the file proven at the same place
/// (the runbook first, then its imports in load order).
fn sources_differ(body: &CertificateBody, program: &Program) -> Vec<ProofError> {
    let now = crate::interp::program::hashes(program);
    let mut errors = Vec::new();
    if program.name() != body.runbook {
        errors.push(ProofError::SourceChanged {
            file: program.main_file().name.clone(),
            reason: format!(
                "this is runbook `{}`; the certificate proves `{}`",
                program.name(),
                body.runbook
            ),
        });
        return errors;
    }
    for (index, file) in now.iter().enumerate() {
        match body.sources.get(index) {
            Some(proven) if proven.sha256 == file.sha256 => {}
            Some(proven) => errors.push(ProofError::SourceChanged {
                file: file.file.clone(),
                reason: format!(
                    "its text changed since it was proven (sha256 {}, the certificate has {} for `{}`)",
                    short(&file.sha256),
                    short(&proven.sha256),
                    proven.file
                ),
            }),
            None => errors.push(ProofError::SourceChanged {
                file: file.file.clone(),
                reason: String::from("imported now, but not part of the proof"),
            }),
        }
    }
    for proven in body.sources.iter().skip(now.len()) {
        errors.push(ProofError::SourceChanged {
            file: proven.file.clone(),
            reason: String::from("proven as an import, but the runbook no longer imports it"),
        });
    }
    errors
}

fn short(sha256: &str) -> &str {
    sha256.get(..12).unwrap_or(sha256)
}

/// The run's parameters against those verified with: a value given with
/// `--set` must equal the one proven (compared as the parameter's type).
fn parameters_differ(
    body: &CertificateBody,
    program: &Program,
    params: &BTreeMap<String, String>,
) -> Vec<ProofError> {
    let ast = &program.main_file().ast;
    let mut errors = Vec::new();
    for (name, value) in params {
        let same = match (body.parameters.get(name), ast.param(name)) {
            (Some(proven), Some(param)) => {
                let parse = |text: &str| crate::semantics::eval::parse_param(param.ty, text).ok();
                parse(proven).is_some() && parse(proven) == parse(value)
            }
            (Some(proven), None) => proven.trim() == value.trim(),
            (None, _) => false,
        };
        if !same {
            errors.push(ProofError::ParametersDiffer {
                name: name.clone(),
                value: format!("`{value}`"),
                proven: body
                    .parameters
                    .get(name)
                    .map(|proven| format!("`{proven}`"))
                    .unwrap_or_else(|| String::from("no value for it")),
            });
        }
    }
    errors
}

/// The parameters a verification runs with: each parameter's default, as
/// text (a string without its quotes).
pub fn proven_parameters(program: &Program) -> BTreeMap<String, String> {
    let file = program.main_file();
    file.ast
        .params
        .iter()
        .filter_map(|param| {
            let default = param.default.as_ref()?;
            let text = default.span.text(&file.text).trim();
            let text = text
                .strip_prefix('"')
                .and_then(|text| text.strip_suffix('"'))
                .unwrap_or(text);
            Some((param.name.name.clone(), text.to_string()))
        })
        .collect()
}

/// Every signature verified, the distinct trusted approvers counted (by
/// name, in signature order), and the refusal when there are too few.
fn approvals(
    certificate: &Certificate,
    file: CertificateFile<'_>,
    requirement: &Requirement,
) -> Result<Vec<String>, Vec<ProofError>> {
    let body = &certificate.body;
    let errors = bad_signatures(certificate, file);
    if !errors.is_empty() {
        return Err(errors);
    }
    if requirement.approvals == 0 {
        return Ok(certificate
            .signatures
            .iter()
            .map(|approval| approval.approver.clone())
            .collect());
    }
    let trusted: Vec<PublicKeyFile> = match &requirement.trusted_keys {
        None => {
            return Err(vec![ProofError::trusted_keys(format!(
                "{} approval(s) required, and no trusted key named",
                requirement.approvals
            ))])
        }
        Some(path) => keys::trusted(path).map_err(|error| vec![ProofError::from(error)])?,
    };
    let mut counted: Vec<(&str, &str)> = Vec::new();
    let mut not_counted = Vec::new();
    for approval in &certificate.signatures {
        let (name, key) = (approval.approver.as_str(), approval.public_key.as_str());
        let why_not = if !trusted
            .iter()
            .any(|trusted| trusted.public_key.eq_ignore_ascii_case(key) && trusted.name == name)
        {
            Some("its key is not a trusted key of that name")
        } else if body.excludes(name) {
            Some("they requested the proof")
        } else if counted
            .iter()
            .any(|(known, known_key)| *known == name || known_key.eq_ignore_ascii_case(key))
        {
            Some("the same approver (name or key) is counted once")
        } else {
            counted.push((name, key));
            None
        };
        if let Some(why_not) = why_not {
            not_counted.push(format!("`{name}`: {why_not}"));
        }
    }
    if counted.len() < requirement.approvals {
        let mut help = String::new();
        if !not_counted.is_empty() {
            help.push_str(&format!("not counted: {}. ", not_counted.join("; ")));
        }
        help.push_str(
            "Each approver signs with their own key (`runbook approve CERT --key KEY`); their `KEY.pub` must be among the trusted keys",
        );
        return Err(vec![ProofError::TooFewApprovals {
            counted: counted.len(),
            required: requirement.approvals,
            help,
        }]);
    }
    Ok(counted.iter().map(|(name, _)| name.to_string()).collect())
}

/// A refusal for each signature of `certificate` (read from `file`) that
/// does not verify, pointing at its entry.
pub fn bad_signatures(certificate: &Certificate, file: CertificateFile<'_>) -> Vec<ProofError> {
    let body = &certificate.body;
    certificate
        .signatures
        .iter()
        .enumerate()
        .filter(|(_, approval)| {
            let statement = body.statement(&approval.approver, &approval.signed_at);
            !keys::verify(
                &approval.public_key,
                &statement.bytes(),
                &approval.signature,
            )
        })
        .map(|(index, approval)| {
            let span =
                locate::value_span(file.text, &[Step::Key("signatures"), Step::Index(index)]);
            ProofError::BadSignature {
                approver: approval.approver.clone(),
                index: index + 1,
                source_code: span
                    .is_some()
                    .then(|| NamedSource::new(file.path, file.text.to_string())),
                span: span.map(Into::into),
            }
        })
        .collect()
}

/// Adds `signer`'s approval to `certificate` as `approver` (refused when
/// the certificate excludes its requester and `approver` is them).
pub fn approve(
    certificate: &mut Certificate,
    signer: &keys::Signer,
    approver: &str,
    signed_at: &str,
) -> Result<(), ProofError> {
    if certificate.body.excludes(approver) {
        return Err(ProofError::SelfApproval {
            approver: approver.to_string(),
        });
    }
    let statement = certificate.body.statement(approver, signed_at);
    let signature = signer.sign(&statement.bytes());
    certificate.signatures.push(super::Approval {
        approver: approver.to_string(),
        public_key: signer.public_key(),
        signed_at: signed_at.to_string(),
        signature,
    });
    Ok(())
}

/// The source hashes a certificate records for `program`.
pub fn sources(program: &Program) -> Vec<SourceHash> {
    crate::interp::program::hashes(program)
}
