//! `--target`: the in-process simulator (`sim`, the default), a running
//! `runbook sim serve` (`http://HOST:PORT`) or an inventory file. Builds the
//! connector a run, a resume or a plan acts on.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use console::style;

use crate::cluster::SimConfig;
use crate::connect::inventory::DurationSetting;
use crate::connect::manual::{ManualAnswer, ManualRequest, OperatorPrompt, WaitingPrompt};
use crate::connect::sim::SimConnector;
use crate::connect::smc::{ConnectionOptions, SmcConnector, SmcSettings};
use crate::connect::{ApiKey, Connector, ConnectorError, Inventory, InventoryError};
use crate::interp::prompt::{
    Answer, AnswerSource, AnswersFile, ChoiceOption, OperatorPrompter, PromptError, PromptKind,
    PromptRequest, Prompter,
};

/// Simulator options shared by `run`, `resume` and `plan`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct SimArgs {
    /// Number of simulated servers (`--target sim`).
    #[arg(long = "sim-servers", value_name = "N", default_value_t = 3)]
    pub sim_servers: usize,
    /// A simulator fault to play (repeatable), e.g. `changes-on-active`, `upgrade-fails:mgt-2`.
    #[arg(long = "sim-fault", value_name = "NAME")]
    pub sim_faults: Vec<String>,
    /// The state the simulated cluster starts in, e.g. `split-brain`,
    /// `wizard-interrupted:5` (a variant from 1; `runbook verify` names
    /// them): healthy by default.
    #[arg(long = "sim-start", value_name = "STATE[:N]")]
    pub sim_start: Option<String>,
}

/// How an HTTP(S) or inventory target is reached, shared by `run`,
/// `resume` and `plan`. Given to `run`, they are recorded in the journal and
/// used again by `resume` (where given ones override them).
#[derive(Debug, Clone, Default, clap::Args)]
#[command(next_help_heading = "Connection (http(s):// and inventory targets)")]
pub struct ConnectionArgs {
    /// Time allowed for one API request, e.g. `90s`, `500ms`, `2m` (default
    /// 60s, or the inventory's `request_timeout`).
    #[arg(long, value_name = "DURATION", value_parser = parse_time_limit)]
    pub request_timeout: Option<Duration>,
    /// Time allowed to open a connection, e.g. `5s` (default 10s, or the
    /// inventory's `connect_timeout`).
    #[arg(long, value_name = "DURATION", value_parser = parse_time_limit)]
    pub connect_timeout: Option<Duration>,
    /// A PEM CA certificate (or the server's self-signed certificate) to
    /// trust in addition to the system roots (inventory: `[tls] ca_file`).
    #[arg(long, value_name = "FILE")]
    pub ca_cert: Option<PathBuf>,
    /// Do not verify the server's TLS certificate: only for a lab; prefer
    /// `--ca-cert` (inventory: `[tls] verify = false`).
    #[arg(long, conflicts_with = "ca_cert")]
    pub insecure_skip_tls_verify: bool,
}

impl ConnectionArgs {
    /// The options as recorded in the journal: the CA path made absolute, so
    /// that a resume from another directory finds it.
    pub fn options(&self) -> ConnectionOptions {
        ConnectionOptions {
            request_timeout: self.request_timeout,
            connect_timeout: self.connect_timeout,
            ca_cert: self
                .ca_cert
                .as_ref()
                .map(|path| std::path::absolute(path).unwrap_or_else(|_| path.clone())),
            insecure_skip_tls_verify: self.insecure_skip_tls_verify,
        }
    }
}

/// A time limit in the inventory's duration syntax (`500ms`, `30s`, `5m`,
/// `2h`, or a number of seconds), more than zero.
pub(super) fn parse_time_limit(text: &str) -> Result<Duration, String> {
    let duration = DurationSetting::parse(text)?.0;
    if duration.is_zero() {
        return Err(String::from("a time limit must be more than zero"));
    }
    Ok(duration)
}

/// A target as given on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetSpec {
    /// The in-process simulator.
    Sim,
    /// A `runbook sim serve` at this address.
    Url(String),
    /// An inventory file.
    Inventory(String),
}

impl TargetSpec {
    /// Reads `--target`.
    pub fn parse(text: &str) -> Self {
        if text == "sim" {
            Self::Sim
        } else if text.starts_with("http://") || text.starts_with("https://") {
            Self::Url(text.to_string())
        } else {
            Self::Inventory(text.to_string())
        }
    }
}

/// The connector of a target, and the simulator configuration to journal.
pub struct OpenTarget {
    /// The connector.
    pub connector: Box<dyn Connector>,
    /// The simulator configuration, for `--target sim`.
    pub sim: Option<SimConfig>,
    /// The webhooks the inventory names (`notify = [...]`).
    pub notify: Vec<crate::connect::inventory::WebhookUrl>,
}

/// Why a target cannot be used (exit code 2).
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum TargetError {
    /// A simulator option is wrong.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Sim(#[from] crate::cluster::SimConfigError),
    /// The target cannot be reached or configured.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Connector(#[from] ConnectorError),
    /// The inventory file is unreadable or invalid.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Inventory(#[from] InventoryError),
    /// A connection option was given for the in-process simulator.
    #[error(
        "{option} applies to an http(s):// or inventory target, not to the in-process simulator"
    )]
    #[diagnostic(
        code(runbook::run::connection_option),
        help("remove it, or give `--target http://HOST:PORT` or `--target INVENTORY.toml`")
    )]
    ConnectionOption {
        /// The first such flag.
        option: &'static str,
    },
    /// A command that reads a real server's API was given the in-process simulator.
    #[error("`--target sim` has no API to read")]
    #[diagnostic(
        code(runbook::probe::target),
        help("give the inventory of a real setup (`--target inventory.toml`), or `--target http://HOST:PORT` for a `runbook sim serve`")
    )]
    NotAnApiTarget,
    /// `--set version=...` is not a version.
    #[error("`--set version={0}` is not a version like 7.4.0")]
    #[diagnostic(
        code(runbook::run::parameter),
        help("write the version as dot-separated numbers, e.g. `--set version=7.4.0`")
    )]
    Version(String),
}

/// The environment variable holding the API key of a `--target http://...`.
pub const API_KEY_ENV: &str = "RUNBOOK_API_KEY";

/// Opens `spec`; `params` are the `--set` values (`version` sets the
/// simulator's target version); `answers` is the `--answers` file, which can
/// also answer the operations an inventory marks `manual`; `cluster`, a
/// fleet's name for the cluster, which those operations' questions name.
pub async fn open(
    spec: &TargetSpec,
    sim: &SimArgs,
    connection: &ConnectionOptions,
    params: &BTreeMap<String, String>,
    answers: Option<&PathBuf>,
    cluster: Option<&str>,
) -> Result<OpenTarget, TargetError> {
    match spec {
        TargetSpec::Sim => {
            if let Some(option) = first_connection_flag(connection) {
                return Err(TargetError::ConnectionOption { option });
            }
            let mut config = SimConfig::with_servers(sim.sim_servers);
            for fault in &sim.sim_faults {
                config.add_fault(fault)?;
            }
            if let Some(start) = &sim.sim_start {
                config.start = Some(crate::cluster::StartSpec::parse(start)?);
            }
            if let Some(version) = params.get("version") {
                config.target_version = version
                    .parse()
                    .map_err(|_| TargetError::Version(version.clone()))?;
            }
            config.validate()?;
            let journaled = Some(config.clone());
            Ok(OpenTarget {
                connector: Box::new(SimConnector::new(config)),
                sim: journaled,
                notify: Vec::new(),
            })
        }
        TargetSpec::Url(_) => Ok(OpenTarget {
            connector: Box::new(open_smc(spec, connection, answers, cluster).await?),
            sim: None,
            notify: Vec::new(),
        }),
        TargetSpec::Inventory(path) => {
            let connector = Box::new(open_smc(spec, connection, answers, cluster).await?);
            // Read and validated by `open_smc` a moment ago.
            let notify = Inventory::load(std::path::Path::new(path))
                .map(|inventory| inventory.notify)
                .unwrap_or_default();
            Ok(OpenTarget {
                connector,
                sim: None,
                notify,
            })
        }
    }
}

/// The `smc` connector of an `http(s)://` (a `runbook sim serve`) or
/// inventory target; `None` for `--target sim` is the caller's to refuse.
/// `answers` and `cluster`: see [`open`].
pub async fn open_smc(
    spec: &TargetSpec,
    connection: &ConnectionOptions,
    answers: Option<&PathBuf>,
    cluster: Option<&str>,
) -> Result<SmcConnector, TargetError> {
    match spec {
        TargetSpec::Sim => Err(TargetError::NotAnApiTarget),
        TargetSpec::Url(url) => {
            let key = std::env::var(API_KEY_ENV).unwrap_or_default();
            if key.trim().is_empty() {
                return Err(TargetError::Connector(ConnectorError::Config {
                    message: format!(
                        "{API_KEY_ENV} is not set: it must hold the API key of the simulator at {url}"
                    ),
                }));
            }
            let settings = connection.apply(SmcSettings::default());
            Ok(SmcConnector::for_sim_url_with(url, ApiKey::new(key), settings).await?)
        }
        TargetSpec::Inventory(path) => {
            let inventory = Inventory::load(std::path::Path::new(path))?;
            let operator: Arc<dyn OperatorPrompt> = Arc::new(ManualOperator {
                answers: answers.cloned(),
                cluster: cluster.map(str::to_owned),
            });
            Ok(SmcConnector::from_inventory_with(
                &inventory,
                Some(operator),
                connection,
            )?)
        }
    }
}

/// The flag of the first connection option given, if any.
pub fn first_connection_flag(options: &ConnectionOptions) -> Option<&'static str> {
    if options.request_timeout.is_some() {
        Some("--request-timeout")
    } else if options.connect_timeout.is_some() {
        Some("--connect-timeout")
    } else if options.ca_cert.is_some() {
        Some("--ca-cert")
    } else if options.insecure_skip_tls_verify {
        Some("--insecure-skip-tls-verify")
    } else {
        None
    }
}

/// A connector that, when no server answers at all, reports the cluster as
/// last observed with every server stopped — as the SMC connector does
/// within one process. A resumed run seeds it with the journal's last
/// snapshot, so a run killed while every server was stopped (downtime
/// upgrade) can be resumed.
pub struct SeededConnector {
    inner: Box<dyn Connector>,
    last: std::sync::Mutex<Option<crate::cluster::Snapshot>>,
}

impl SeededConnector {
    /// Wraps `inner`, starting from `seed`.
    pub fn new(inner: Box<dyn Connector>, seed: Option<crate::cluster::Snapshot>) -> Self {
        if let Some(seed) = &seed {
            inner.seed(seed);
        }
        Self {
            inner,
            last: std::sync::Mutex::new(seed),
        }
    }

    fn last(&self) -> std::sync::MutexGuard<'_, Option<crate::cluster::Snapshot>> {
        self.last
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[async_trait::async_trait]
impl Connector for SeededConnector {
    fn describe(&self) -> String {
        self.inner.describe()
    }

    async fn snapshot(&self) -> Result<crate::cluster::Snapshot, ConnectorError> {
        match self.inner.snapshot().await {
            Ok(snapshot) => {
                *self.last() = Some(snapshot.clone());
                Ok(snapshot)
            }
            Err(error @ (ConnectorError::Refused { .. } | ConnectorError::Timeout { .. })) => {
                match self.last().clone() {
                    Some(mut snapshot) => {
                        for server in &mut snapshot.servers {
                            server.running = false;
                        }
                        Ok(snapshot)
                    }
                    None => Err(error),
                }
            }
            Err(error) => Err(error),
        }
    }

    async fn perform(
        &self,
        operation: &crate::cluster::Operation,
    ) -> Result<crate::cluster::OperationOutput, ConnectorError> {
        self.inner.perform(operation).await
    }

    async fn sleep(&self, duration: std::time::Duration) {
        self.inner.sleep(duration).await;
    }

    fn clock(&self) -> std::time::Duration {
        self.inner.clock()
    }

    fn clock_kind(&self) -> crate::connect::ClockKind {
        self.inner.clock_kind()
    }

    fn clock_speed(&self) -> Option<f64> {
        self.inner.clock_speed()
    }

    fn outcome_always_seen(&self) -> bool {
        self.inner.outcome_always_seen()
    }

    async fn split_brain(&self) -> Result<Option<Vec<String>>, ConnectorError> {
        self.inner.split_brain().await
    }

    fn warnings(&self) -> Vec<crate::connect::TargetWarning> {
        self.inner.warnings()
    }

    fn counts_changes(&self) -> bool {
        self.inner.counts_changes()
    }

    fn seed(&self, last_seen: &crate::cluster::Snapshot) {
        self.inner.seed(last_seen);
    }

    fn identity(&self) -> Option<std::collections::BTreeMap<String, String>> {
        self.inner.identity()
    }

    fn progress(&self) -> Option<String> {
        self.inner.progress()
    }

    fn waits_for_operator(
        &self,
        operation: &crate::cluster::Operation,
    ) -> Option<crate::connect::WaitingPrompt> {
        self.inner.waits_for_operator(operation)
    }

    async fn take_lease(
        &self,
        holder: &crate::connect::lease::Holder,
        take_over: bool,
    ) -> Result<(), ConnectorError> {
        self.inner.take_lease(holder, take_over).await
    }

    async fn close(&self) {
        self.inner.close().await;
    }
}

/// Asks the operator to perform an operation the inventory marks `manual`:
/// prompt id `manual.OPERATION.SERVER`, answered `done`, `failed` or
/// `not-done` from the answers file or on the terminal. `--yes` never
/// answers it — confirming physical work nobody did would be a lie. In a
/// fleet, the question names its cluster.
struct ManualOperator {
    answers: Option<PathBuf>,
    cluster: Option<String>,
}

impl ManualOperator {
    /// The question that asks for `request`.
    fn prompt(request: &ManualRequest) -> PromptRequest {
        PromptRequest {
            id: request.prompt_id(),
            text: request.question(),
            kind: PromptKind::Choose(
                [
                    ("done", "Done, and it looks as expected"),
                    ("failed", "Performed, but it failed"),
                    ("not-done", "Not performed"),
                ]
                .into_iter()
                .map(|(name, label)| ChoiceOption {
                    name: name.to_string(),
                    label: label.to_string(),
                    is_default: false,
                })
                .collect(),
            ),
            default: None,
            data_loss: false,
        }
    }
}

#[async_trait]
impl OperatorPrompt for ManualOperator {
    fn waits(&self, request: &ManualRequest) -> Option<WaitingPrompt> {
        let prompt = Self::prompt(request);
        // An answers file that cannot be read answers nothing: the
        // question is not asked either (the operation fails, saying why).
        let answers = match self.answers.as_deref().map(AnswersFile::load) {
            Some(Err(_)) => return None,
            Some(Ok(answers)) => Some(answers),
            None => None,
        };
        let waits = OperatorPrompter::new(answers, false, true).waits(&prompt);
        waits.then_some(WaitingPrompt {
            id: prompt.id,
            text: prompt.text,
        })
    }

    async fn ask(&self, request: &ManualRequest) -> ManualAnswer {
        let operation = &request.operation;
        let mut prompt = Self::prompt(request);
        if let Some(cluster) = &self.cluster {
            prompt.text = format!("Cluster {cluster}: {}", prompt.text);
        }
        let answers = self.answers.clone();
        let operation_text = operation.to_string();
        let asked = tokio::task::spawn_blocking(move || {
            let loaded = answers
                .map(|path| AnswersFile::load(&path).map_err(|error| error.to_string()));
            let answers = loaded.transpose().map_err(ManualAnswer::not_done)?;
            let mut prompter = OperatorPrompter::new(answers, false, true);
            // The operation's spinner is hidden while the operator answers:
            // both draw on the terminal.
            super::output::suspend_progress(|| match prompter.ask(&prompt) {
                Ok((Answer::Text(choice), source)) => {
                    if source == AnswerSource::Terminal {
                        // The question's menu is gone: say what was answered.
                        eprintln!(
                            "  {} {} {} {} {}",
                            style("?").magenta().bold().for_stderr(),
                            operation_text,
                            style("→").dim().for_stderr(),
                            style(&choice).bold().for_stderr(),
                            style(format!("[{}, terminal]", prompt.id)).dim().for_stderr()
                        );
                    }
                    Ok(choice)
                }
                Ok((Answer::Bool(_), _)) => Err(ManualAnswer::not_done(
                    "the answer must be done, failed or not-done",
                )),
                Err(PromptError::Unavailable) => Err(ManualAnswer::not_done(format!(
                    "nobody can answer prompt `{}`: run on a terminal, or answer it in the --answers file",
                    prompt.id
                ))),
                Err(PromptError::Failed(error)) => Err(ManualAnswer::not_done(error)),
                Err(PromptError::Interrupted) => Err(ManualAnswer::Interrupted),
            })
        })
        .await;
        match asked {
            Ok(Ok(choice)) if choice == "done" => ManualAnswer::Done {
                observed: String::new(),
            },
            Ok(Ok(choice)) if choice == "failed" => ManualAnswer::Failed {
                observed: "the operator reported that it failed".to_string(),
            },
            Ok(Ok(_)) => ManualAnswer::not_done("the operator did not perform it"),
            Ok(Err(answer)) => answer,
            Err(error) => ManualAnswer::not_done(error),
        }
    }
}
