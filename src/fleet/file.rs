//! The fleet file: which clusters one runbook runs over.
//!
//! ```toml
//! [defaults]                       # optional, for every cluster
//! answers = "answers/common.toml"
//! set = { version = "7.4.0" }
//!
//! [[clusters]]
//! name = "emea-1"                  # names its journal: JOURNAL_DIR/emea-1.jsonl
//! inventory = "inventories/emea-1.toml"
//! answers = "answers/emea-1.toml"  # replaces the default answers
//! set = { version = "7.4.1" }      # over the default parameters, key by key
//! ```
//!
//! Paths are relative to the fleet file. Instead of `inventory`, `target =
//! "http://HOST:PORT"` names a `runbook sim serve` (a rehearsal).

// Runtime errors (answers files) are built at most once per cluster, when refused.
#![allow(clippy::result_large_err)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use miette::{NamedSource, SourceSpan};
use serde::Deserialize;
use toml::Spanned;

use super::error::{FleetError, Related};
use crate::connect::Inventory;
use crate::interp::program::Program;
use crate::interp::prompt::AnswersFile;

/// How a cluster is reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClusterTarget {
    /// An inventory file (resolved against the fleet file's folder).
    Inventory(PathBuf),
    /// A `runbook sim serve` (`http://HOST:PORT`).
    Url(String),
}

impl ClusterTarget {
    /// As `runbook run --target` takes it.
    pub fn as_arg(&self) -> String {
        match self {
            Self::Inventory(path) => path.display().to_string(),
            Self::Url(url) => url.clone(),
        }
    }
}

/// One cluster of the fleet, its paths resolved and the defaults applied.
#[derive(Debug, Clone)]
pub struct ClusterEntry {
    /// Its name (also its journal's file name).
    pub name: String,
    /// Where its name is written.
    pub name_span: SourceSpan,
    /// How it is reached.
    pub target: ClusterTarget,
    /// Where the inventory (or target) is written.
    pub target_span: SourceSpan,
    /// Its answers file, if any.
    pub answers: Option<PathBuf>,
    /// Where that answers file is written (the cluster's, or the defaults').
    pub answers_span: Option<SourceSpan>,
    /// Its `--set` parameters.
    pub params: BTreeMap<String, String>,
    /// Where each parameter's name is written.
    pub param_spans: BTreeMap<String, SourceSpan>,
}

/// A parsed fleet file.
#[derive(Debug, Clone)]
pub struct FleetFile {
    /// The path as given.
    pub path: PathBuf,
    /// Its text, for diagnostics.
    pub text: Arc<str>,
    /// Its clusters, in the order written (the order they start in).
    pub clusters: Vec<ClusterEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFleet {
    #[serde(default)]
    defaults: Option<RawDefaults>,
    #[serde(default)]
    clusters: Vec<Spanned<RawCluster>>,
}

type RawParams = BTreeMap<Spanned<String>, Spanned<toml::Value>>;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDefaults {
    answers: Option<Spanned<String>>,
    #[serde(default)]
    set: RawParams,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCluster {
    name: Spanned<String>,
    inventory: Option<Spanned<String>>,
    target: Option<Spanned<String>>,
    answers: Option<Spanned<String>>,
    #[serde(default)]
    set: RawParams,
}

/// Builds a `runbook::fleet::invalid` from its reason, where, and help.
type Invalid<'a> = dyn Fn(String, Option<std::ops::Range<usize>>, &str) -> FleetError + 'a;

const SEE_DOCS: &str = "see docs/fleets.md for the fleet file's format";

impl FleetFile {
    /// Reads and parses the fleet file at `path`.
    pub fn load(path: &Path) -> Result<Self, Vec<FleetError>> {
        let text = std::fs::read_to_string(path).map_err(|error| {
            vec![FleetError::Unreadable {
                path: path.display().to_string(),
                reason: error.to_string(),
            }]
        })?;
        let base = path.parent().unwrap_or(Path::new("")).to_path_buf();
        let mut fleet = Self::parse(&path.display().to_string(), &text, &base)?;
        fleet.path = path.to_path_buf();
        Ok(fleet)
    }

    /// Parses fleet text named `name`, its paths relative to `base`: every
    /// error found, or the fleet.
    pub fn parse(name: &str, text: &str, base: &Path) -> Result<Self, Vec<FleetError>> {
        let shared: Arc<str> = Arc::from(text);
        let source = || NamedSource::new(name, Arc::clone(&shared));
        let invalid = |reason: String, span: Option<std::ops::Range<usize>>, help: &str| {
            FleetError::Invalid {
                reason,
                source_code: source(),
                span: span.map(SourceSpan::from),
                help: help.to_string(),
            }
        };
        let raw: RawFleet = toml::from_str(text)
            .map_err(|error| vec![invalid(error.message().to_string(), error.span(), SEE_DOCS)])?;
        let mut errors = Vec::new();
        if raw.clusters.is_empty() {
            errors.push(invalid(
                String::from("the fleet names no cluster"),
                None,
                "add a `[[clusters]]` table with `name` and `inventory` for each cluster",
            ));
        }
        let resolve = |written: &str| base.join(written);
        let (default_answers, default_params) = match &raw.defaults {
            Some(defaults) => (
                defaults.answers.clone(),
                params(&defaults.set, &invalid, &mut errors),
            ),
            None => (None, BTreeMap::new()),
        };
        let mut seen: BTreeMap<String, SourceSpan> = BTreeMap::new();
        let mut clusters = Vec::new();
        for spanned in &raw.clusters {
            let cluster = spanned.get_ref();
            let name = cluster.name.get_ref().clone();
            let name_span = SourceSpan::from(cluster.name.span());
            if let Err(reason) = valid_name(&name) {
                errors.push(invalid(
                    reason,
                    Some(cluster.name.span()),
                    "a cluster's name names its journal file: letters, digits, `.`, `_` and `-`, not beginning with `.` or `-`",
                ));
            }
            if let Some(first) = seen.get(&name) {
                errors.push(FleetError::DuplicateCluster {
                    name: name.clone(),
                    source_code: source(),
                    span: name_span,
                    first: *first,
                });
            } else {
                seen.insert(name.clone(), name_span);
            }
            let target = match (&cluster.inventory, &cluster.target) {
                (Some(inventory), None) => Some((
                    ClusterTarget::Inventory(resolve(inventory.get_ref())),
                    inventory.span(),
                )),
                (None, Some(target))
                    if target.get_ref().starts_with("http://")
                        || target.get_ref().starts_with("https://") =>
                {
                    Some((
                        ClusterTarget::Url(crate::connect::redact_url(target.get_ref())),
                        target.span(),
                    ))
                }
                (None, Some(target)) => {
                    errors.push(invalid(
                        String::from("`target` is the address of a `runbook sim serve`"),
                        Some(target.span()),
                        "write `target = \"http://HOST:PORT\"`, or `inventory = \"FILE.toml\"` for a real cluster",
                    ));
                    None
                }
                (Some(_), Some(target)) => {
                    errors.push(invalid(
                        format!("cluster `{name}` has both `inventory` and `target`"),
                        Some(target.span()),
                        "give one: `inventory` for a real cluster, `target` for a `runbook sim serve`",
                    ));
                    None
                }
                (None, None) => {
                    errors.push(invalid(
                        format!("cluster `{name}` has no `inventory`"),
                        Some(spanned.span()),
                        "add `inventory = \"FILE.toml\"` (see docs/inventory.md), or `target = \"http://HOST:PORT\"` for a `runbook sim serve`",
                    ));
                    None
                }
            };
            let Some((target, target_span)) = target else {
                continue;
            };
            let (answers, answers_span) =
                match cluster.answers.as_ref().or(default_answers.as_ref()) {
                    Some(answers) => (
                        Some(resolve(answers.get_ref())),
                        Some(SourceSpan::from(answers.span())),
                    ),
                    None => (None, None),
                };
            let mut merged = default_params.clone();
            merged.extend(params(&cluster.set, &invalid, &mut errors));
            clusters.push(ClusterEntry {
                name,
                name_span,
                target,
                target_span: SourceSpan::from(target_span),
                answers,
                answers_span,
                params: merged
                    .iter()
                    .map(|(key, (value, _))| (key.clone(), value.clone()))
                    .collect(),
                param_spans: merged
                    .into_iter()
                    .map(|(key, (_, span))| (key, span))
                    .collect(),
            });
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(Self {
            path: PathBuf::from(name),
            text: shared,
            clusters,
        })
    }

    /// The fleet file as the source of a diagnostic.
    pub fn source(&self) -> NamedSource<Arc<str>> {
        NamedSource::new(self.path.display().to_string(), Arc::clone(&self.text))
    }

    /// The cluster called `name`.
    pub fn cluster(&self, name: &str) -> Option<&ClusterEntry> {
        self.clusters.iter().find(|cluster| cluster.name == name)
    }

    /// Everything that would make a cluster of the fleet fail before it
    /// acts, checked against `program` for all clusters at once: an
    /// inventory that is missing, invalid or without its API key, a
    /// parameter the runbook does not declare (or of the wrong type), an
    /// answers file that cannot be read or answers a prompt the runbook
    /// does not ask. `api_key_env` is the variable a `target` URL's key is
    /// read from. Empty: the fleet can start.
    pub fn check(&self, program: &Program, api_key_env: &str) -> Vec<FleetError> {
        let prompts = crate::semantics::code::Code::new(program).prompts();
        let mut errors = Vec::new();
        for cluster in &self.clusters {
            if let Some(error) = self.check_target(cluster, api_key_env) {
                errors.push(error);
            }
            for (name, value) in &cluster.params {
                let one = BTreeMap::from([(name.clone(), value.clone())]);
                if let Err(error) = crate::interp::machine::check_params(program, &one) {
                    let reason = match error {
                        crate::interp::RuntimeError::Parameter { reason, .. } => reason,
                        other => other.to_string(),
                    };
                    errors.push(FleetError::Parameter {
                        cluster: cluster.name.clone(),
                        name: name.clone(),
                        reason,
                        source_code: self.source(),
                        span: cluster.param_spans[name],
                    });
                }
            }
            if let (Some(path), Some(span)) = (&cluster.answers, cluster.answers_span) {
                let checked = AnswersFile::load(path).and_then(|answers| answers.check(&prompts));
                if let Err(error) = checked {
                    errors.push(FleetError::Answers {
                        cluster: cluster.name.clone(),
                        reason: format!(
                            "its answers file {} cannot be used (below)",
                            path.display()
                        ),
                        source_code: self.source(),
                        span,
                        related: vec![Related::from(error)],
                    });
                }
            }
        }
        errors
    }

    fn check_target(&self, cluster: &ClusterEntry, api_key_env: &str) -> Option<FleetError> {
        let refuse = |reason: String, help: &str, related: Vec<Related>| FleetError::Inventory {
            cluster: cluster.name.clone(),
            reason,
            source_code: self.source(),
            span: cluster.target_span,
            label: match cluster.target {
                ClusterTarget::Inventory(_) => "this inventory",
                ClusterTarget::Url(_) => "this target",
            },
            help: help.to_string(),
            related,
        };
        match &cluster.target {
            ClusterTarget::Inventory(path) => {
                let inventory = match Inventory::load(path) {
                    Ok(inventory) => inventory,
                    Err(crate::connect::InventoryError::Unreadable { reason, .. }) => {
                        return Some(refuse(
                            format!("cannot read its inventory {}: {reason}", path.display()),
                            "the path is relative to the fleet file; see docs/inventory.md for what an inventory holds",
                            Vec::new(),
                        ))
                    }
                    Err(error) => {
                        return Some(refuse(
                            format!("the inventory {} is invalid", path.display()),
                            "fix the inventory (its own diagnostic follows)",
                            vec![Related::from(error)],
                        ))
                    }
                };
                match inventory.api_key() {
                    Ok(_) => None,
                    Err(error) => Some(refuse(
                        format!("{error}"),
                        "every cluster's API key must be at hand before the fleet starts: set the variable its inventory's `api_key_env` names, or write its `api_key_file`",
                        Vec::new(),
                    )),
                }
            }
            ClusterTarget::Url(url) => {
                let key = std::env::var(api_key_env).unwrap_or_default();
                key.trim().is_empty().then(|| {
                    refuse(
                        format!("{api_key_env} is not set: it must hold the API key of the simulator at {url}"),
                        "set it to the key `runbook sim serve` printed (or was given in RUNBOOK_SIM_API_KEY)",
                        Vec::new(),
                    )
                })
            }
        }
    }
}

/// The parameters of a `set` table: each value as `--set` would give it,
/// with where its name is written.
fn params(
    set: &RawParams,
    invalid: &Invalid<'_>,
    errors: &mut Vec<FleetError>,
) -> BTreeMap<String, (String, SourceSpan)> {
    let mut out = BTreeMap::new();
    for (key, value) in set {
        let text = match value.get_ref() {
            toml::Value::String(text) => text.clone(),
            toml::Value::Integer(number) => number.to_string(),
            toml::Value::Float(number) => number.to_string(),
            toml::Value::Boolean(flag) => flag.to_string(),
            _ => {
                errors.push(invalid(
                    format!(
                        "the value of parameter `{}` is not a single value",
                        key.get_ref()
                    ),
                    Some(value.span()),
                    "write it as `--set` would take it: a string, a number or a boolean",
                ));
                continue;
            }
        };
        out.insert(key.get_ref().clone(), (text, SourceSpan::from(key.span())));
    }
    out
}

/// Whether `name` can name a journal file, and why not.
fn valid_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err(String::from("a cluster's name is empty"));
    }
    if name.len() > 100 {
        return Err(format!(
            "cluster name `{name}` is longer than 100 characters"
        ));
    }
    if name.starts_with(['.', '-']) {
        return Err(format!(
            "cluster name `{name}` begins with `{}`",
            &name[..1]
        ));
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
    {
        return Err(format!("cluster name `{name}` holds `{bad}`"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_apply_and_clusters_override_them() {
        let fleet = FleetFile::parse(
            "fleet.toml",
            "[defaults]\nanswers = \"common.toml\"\nset = { version = \"7.4.0\", servers = 3 }\n\n\
             [[clusters]]\nname = \"a\"\ninventory = \"a.toml\"\nset = { version = \"7.4.1\" }\n\n\
             [[clusters]]\nname = \"b\"\ntarget = \"http://127.0.0.1:9\"\nanswers = \"b.toml\"\n",
            Path::new("dir"),
        )
        .expect("valid");
        let a = &fleet.clusters[0];
        assert_eq!(
            a.target,
            ClusterTarget::Inventory(PathBuf::from("dir/a.toml"))
        );
        assert_eq!(a.params["version"], "7.4.1");
        assert_eq!(a.params["servers"], "3");
        assert_eq!(a.answers, Some(PathBuf::from("dir/common.toml")));
        let b = &fleet.clusters[1];
        assert_eq!(b.target, ClusterTarget::Url("http://127.0.0.1:9".into()));
        assert_eq!(b.answers, Some(PathBuf::from("dir/b.toml")));
    }

    #[test]
    fn every_error_is_reported_at_once() {
        let errors = FleetFile::parse(
            "fleet.toml",
            "[[clusters]]\nname = \"a\"\ninventory = \"a.toml\"\n\n\
             [[clusters]]\nname = \"a\"\ninventory = \"b.toml\"\n\n\
             [[clusters]]\nname = \"../c\"\n",
            Path::new(""),
        )
        .expect_err("invalid");
        let codes: Vec<String> = errors
            .iter()
            .map(|error| {
                miette::Diagnostic::code(error)
                    .map(|c| c.to_string())
                    .unwrap_or_default()
            })
            .collect();
        assert_eq!(
            codes,
            [
                "runbook::fleet::duplicate_cluster",
                "runbook::fleet::invalid",
                "runbook::fleet::invalid"
            ]
        );
    }
}
