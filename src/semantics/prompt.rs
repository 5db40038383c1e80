//! What a prompt asks and what answers it: the request a statement makes of
//! the operator (confirm, choose, record, select) and the answer, shared by
//! the interpreter (which asks a person), the verifier (which tries every
//! answer) and `plan`.

use serde::{Deserialize, Serialize};

/// One option of a `choose`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ChoiceOption {
    /// The option's name (what answers files give).
    pub name: String,
    /// Its label.
    pub label: String,
    /// Whether `--yes` takes it.
    pub is_default: bool,
}

/// What kind of answer a prompt wants.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PromptKind {
    /// Yes or no; no stops the run.
    Confirm,
    /// One option of a `choose`.
    Choose(Vec<ChoiceOption>),
    /// A line of text (an observation).
    Record,
    /// One server of a list.
    Select(Vec<String>),
}

/// A question for the operator.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PromptRequest {
    /// The prompt id.
    pub id: String,
    /// The question.
    pub text: String,
    /// The answer it wants.
    pub kind: PromptKind,
    /// The answer `--yes` gives and the terminal's menu starts on, when the
    /// run knows better than the kind's own default (a `select` offers the
    /// server the run saw become Active). `None`: [`PromptKind`]'s default.
    pub default: Option<Answer>,
    /// Confirming loses administrator changes: `--yes` answers no unless
    /// the operator also gave `--accept-data-loss`.
    pub data_loss: bool,
}

/// An answer: a confirmation, or an option name, server name or text.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(untagged)]
pub enum Answer {
    /// A confirm's answer.
    Bool(bool),
    /// An option name, a server name or recorded text.
    Text(String),
}

impl Answer {
    /// The answer as JSON, for the `prompt` event.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Self::Bool(value) => serde_json::Value::Bool(*value),
            Self::Text(text) => serde_json::Value::String(text.clone()),
        }
    }

    /// Whether this answer fits `kind` (a journaled answer of a changed runbook may not).
    pub fn fits(&self, kind: &PromptKind) -> bool {
        match (self, kind) {
            (Self::Bool(_), PromptKind::Confirm) | (Self::Text(_), PromptKind::Record) => true,
            (Self::Text(name), PromptKind::Choose(options)) => {
                options.iter().any(|option| &option.name == name)
            }
            (Self::Text(name), PromptKind::Select(servers)) => servers.contains(name),
            _ => false,
        }
    }

    /// Whether a journaled answer still answers `kind` on resume. A selected
    /// server stands even when the live list no longer offers it: the
    /// candidates were read when the operator chose, and the run itself may
    /// have changed them since (the Final Active chosen among the Standbys is
    /// Active once forced) — a resumed run keeps its roles.
    pub fn replays(&self, kind: &PromptKind) -> bool {
        matches!((self, kind), (Self::Text(_), PromptKind::Select(_))) || self.fits(kind)
    }
}

impl std::fmt::Display for Answer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Answer::Bool(true) => f.write_str("yes"),
            Answer::Bool(false) => f.write_str("no"),
            Answer::Text(text) => f.write_str(text),
        }
    }
}
