//! What a fleet file can be refused for, each pointing into `FLEET.toml`
//! (file, line, column) with a help line; the cluster's own inventory or
//! answers diagnostic, when there is one, comes with it.

use std::sync::Arc;

use miette::{Diagnostic, NamedSource, SourceSpan};

/// A diagnostic of another file (an inventory, an answers file) shown
/// under a fleet diagnostic.
#[derive(Debug, thiserror::Error, Diagnostic)]
pub enum Related {
    /// The inventory's own diagnostic.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Inventory(#[from] crate::connect::InventoryError),
    /// The answers file's own diagnostic.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Answers(#[from] crate::interp::RuntimeError),
}

/// Why a fleet cannot start (exit code 2: nothing acted).
#[derive(Debug, thiserror::Error, Diagnostic)]
pub enum FleetError {
    /// The fleet file cannot be read.
    #[error("cannot read the fleet file {path}: {reason}")]
    #[diagnostic(
        code(runbook::fleet::unreadable),
        help("give the path of a fleet file (TOML, see docs/fleets.md)")
    )]
    Unreadable {
        /// The path given.
        path: String,
        /// The operating system's reason.
        reason: String,
    },
    /// The fleet file is not a valid fleet: TOML syntax, an unknown key, a
    /// missing or malformed value.
    #[error("invalid fleet file: {reason}")]
    #[diagnostic(code(runbook::fleet::invalid), help("{help}"))]
    Invalid {
        /// What is wrong.
        reason: String,
        /// The fleet file.
        #[source_code]
        source_code: NamedSource<Arc<str>>,
        /// Where.
        #[label("here")]
        span: Option<SourceSpan>,
        /// What to do.
        help: String,
    },
    /// Two clusters of the fleet have the same name (their journals would
    /// be one file).
    #[error("cluster `{name}` is named twice")]
    #[diagnostic(
        code(runbook::fleet::duplicate_cluster),
        help("each cluster needs its own name: it names the cluster's journal and its line in the summary")
    )]
    DuplicateCluster {
        /// The name.
        name: String,
        /// The fleet file.
        #[source_code]
        source_code: NamedSource<Arc<str>>,
        /// The second use.
        #[label("named again here")]
        span: SourceSpan,
        /// The first use.
        #[label("first here")]
        first: SourceSpan,
    },
    /// A cluster's inventory cannot be used: missing, invalid, or its API
    /// key is not available.
    #[error("cluster `{cluster}`: {reason}")]
    #[diagnostic(code(runbook::fleet::inventory), help("{help}"))]
    Inventory {
        /// The cluster.
        cluster: String,
        /// What is wrong.
        reason: String,
        /// The fleet file.
        #[source_code]
        source_code: NamedSource<Arc<str>>,
        /// The `inventory` (or `target`) value.
        #[label("{label}")]
        span: SourceSpan,
        /// What the label says.
        label: &'static str,
        /// What to do.
        help: String,
        /// The inventory's own diagnostic.
        #[related]
        related: Vec<Related>,
    },
    /// A parameter the runbook does not declare, or a value of the wrong type.
    #[error("cluster `{cluster}`: parameter `{name}`: {reason}")]
    #[diagnostic(
        code(runbook::fleet::parameter),
        help("`set` gives the runbook's own parameters (`runbook show RUNBOOK` lists them), as `NAME = \"VALUE\"`")
    )]
    Parameter {
        /// The cluster (`defaults` for the fleet's defaults).
        cluster: String,
        /// The parameter.
        name: String,
        /// What is wrong.
        reason: String,
        /// The fleet file.
        #[source_code]
        source_code: NamedSource<Arc<str>>,
        /// The parameter's key.
        #[label("not a parameter of the runbook")]
        span: SourceSpan,
    },
    /// A cluster's answers file cannot be read, or answers a prompt the
    /// runbook does not ask, or with the wrong kind of value.
    #[error("cluster `{cluster}`: {reason}")]
    #[diagnostic(
        code(runbook::fleet::answers),
        help("an answers file answers the runbook's prompts by id (`runbook show RUNBOOK`); a typo would stop the cluster at that prompt, in the middle of its run")
    )]
    Answers {
        /// The cluster.
        cluster: String,
        /// What is wrong.
        reason: String,
        /// The fleet file.
        #[source_code]
        source_code: NamedSource<Arc<str>>,
        /// The `answers` value.
        #[label("these answers")]
        span: SourceSpan,
        /// The answers file's own diagnostic.
        #[related]
        related: Vec<Related>,
    },
    /// A cluster's journal stands in the way (`fleet run` over an earlier
    /// fleet's journals) or cannot be read (`fleet resume`).
    #[error("cluster `{cluster}`: {reason}")]
    #[diagnostic(code(runbook::fleet::journal), help("{help}"))]
    Journal {
        /// The cluster.
        cluster: String,
        /// What is wrong.
        reason: String,
        /// The fleet file.
        #[source_code]
        source_code: NamedSource<Arc<str>>,
        /// The cluster's name.
        #[label("this cluster")]
        span: SourceSpan,
        /// What to do.
        help: String,
    },
}
