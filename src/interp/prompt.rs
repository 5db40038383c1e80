//! Operator interaction behind one trait: a prompt (confirm, choose, record,
//! select) is answered from an answers file (`--answers FILE`), by `--yes`,
//! or on the terminal when stdin and stderr are one; with none of these it
//! fails at once, naming the prompt, rather than waiting for input that
//! cannot come. On the terminal, keys typed before the question was shown
//! are discarded, and Ctrl-C abandons the prompt
//! ([`PromptError::Interrupted`]).

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::Path;
use std::sync::Arc;

use miette::{NamedSource, SourceSpan};

use super::error::RuntimeError;

pub use crate::semantics::prompt::{Answer, ChoiceOption, PromptKind, PromptRequest};

/// Where an answer came from (shown in the `prompt` event).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnswerSource {
    /// Typed by the operator.
    Terminal,
    /// Read from `--answers FILE`.
    AnswersFile,
    /// Given by `--yes`.
    Yes,
    /// Replayed from the journal on resume.
    Journal,
}

impl AnswerSource {
    /// The word used in events.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Terminal => "terminal",
            Self::AnswersFile => "answers-file",
            Self::Yes => "yes",
            Self::Journal => "journal",
        }
    }
}

/// Why a prompt got no answer.
#[derive(Debug)]
pub enum PromptError {
    /// Nothing can answer it (no terminal, no answer, no `--yes` default).
    Unavailable,
    /// An answer source failed (a bad answers file, a broken terminal).
    Failed(Box<RuntimeError>),
    /// The operator pressed Ctrl-C at the prompt: the run stops, resumable.
    Interrupted,
}

/// Answers the operator's prompts.
pub trait Prompter: Send {
    /// Answers `request`, or says why it cannot.
    fn ask(&mut self, request: &PromptRequest) -> Result<(Answer, AnswerSource), PromptError>;

    /// Whether answering `request` waits for a person at the terminal (no
    /// answers file or `--yes` answers it): the run announces it first (a
    /// `prompt_waiting` event, which `--notify` posts).
    fn waits(&self, _request: &PromptRequest) -> bool {
        false
    }
}

/// The answers of an `--answers FILE` (TOML: prompt id → answer).
#[derive(Debug, Clone)]
pub struct AnswersFile {
    path: String,
    text: Arc<str>,
    answers: BTreeMap<String, toml::Spanned<toml::Value>>,
}

impl AnswersFile {
    /// Reads and parses an answers file.
    pub fn load(path: &Path) -> Result<Self, RuntimeError> {
        let text = std::fs::read_to_string(path).map_err(|error| RuntimeError::AnswersFile {
            path: path.display().to_string(),
            reason: error.to_string(),
            source_code: None,
            span: None,
        })?;
        Self::parse(&path.display().to_string(), &text)
    }

    /// Parses the text of an answers file named `path`.
    pub fn parse(path: &str, text: &str) -> Result<Self, RuntimeError> {
        let shared: Arc<str> = Arc::from(text);
        let answers: BTreeMap<String, toml::Spanned<toml::Value>> =
            toml::from_str(text).map_err(|error| RuntimeError::AnswersFile {
                path: path.to_string(),
                reason: error.message().to_string(),
                source_code: Some(NamedSource::new(path, Arc::clone(&shared))),
                span: error.span().map(SourceSpan::from),
            })?;
        Ok(Self {
            path: path.to_string(),
            text: shared,
            answers,
        })
    }

    /// Refuses, before the run starts, keys that answer no prompt the
    /// runbook can ask (`prompts`, plus `manual.OPERATION.SERVER` for
    /// operations an inventory marks `manual` and `reanswer.ID`), naming the
    /// closest prompt, and answers of the wrong kind (a string for a
    /// confirmation, an option the `choose` does not have, a number for a
    /// `select`): either would otherwise stop the run in its middle.
    pub fn check(
        &self,
        prompts: &std::collections::BTreeMap<String, Vec<PromptKind>>,
    ) -> Result<(), RuntimeError> {
        for (key, value) in &self.answers {
            if let Some(kinds) = prompts.get(key) {
                self.check_kind(key, kinds)?;
                continue;
            }
            if key.starts_with("manual.") {
                // Checked by the operator connector when it asks.
                continue;
            }
            if key.starts_with("reanswer.") {
                if !matches!(value.get_ref(), toml::Value::Boolean(_)) {
                    return Err(self.wrong_kind(key, "`true` or `false`"));
                }
                continue;
            }
            let known: Vec<&String> = prompts.keys().collect();
            let closest = known
                .iter()
                .map(|id| (strsim::levenshtein(key, id), *id))
                .filter(|(distance, id)| *distance <= 2.max(id.len() / 3))
                .min()
                .map(|(_, id)| format!(": did you mean `{id}`?"))
                .unwrap_or_else(|| {
                    format!(
                        " (its prompts are {})",
                        known
                            .iter()
                            .map(|id| format!("`{id}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                });
            return Err(RuntimeError::AnswersFile {
                path: self.path.clone(),
                reason: format!("`{key}` answers no prompt of the runbook{closest}"),
                source_code: Some(NamedSource::new(&self.path, Arc::clone(&self.text))),
                span: Some(SourceSpan::from(value.span())),
            });
        }
        Ok(())
    }

    /// Checks the answer to `id` against the kinds of answer its prompts
    /// want (a `select`'s servers are checked when it is asked).
    fn check_kind(&self, id: &str, kinds: &[PromptKind]) -> Result<(), RuntimeError> {
        let value = self.answers[id].get_ref();
        let fits = |kind: &PromptKind| match (value, kind) {
            (toml::Value::Boolean(_), PromptKind::Confirm) => true,
            (
                toml::Value::String(_) | toml::Value::Integer(_) | toml::Value::Boolean(_),
                PromptKind::Record,
            ) => true,
            (toml::Value::String(name), PromptKind::Choose(options)) => {
                options.iter().any(|option| &option.name == name)
            }
            (toml::Value::String(_), PromptKind::Select(_)) => true,
            _ => false,
        };
        if kinds.iter().any(fits) {
            return Ok(());
        }
        let expected: Vec<String> = kinds.iter().map(expected_answer).collect();
        Err(self.wrong_kind(id, &expected.join(", or ")))
    }

    fn wrong_kind(&self, id: &str, expected: &str) -> RuntimeError {
        RuntimeError::AnswersFile {
            path: self.path.clone(),
            reason: format!("the answer to prompt `{id}` must be {expected}"),
            source_code: Some(NamedSource::new(&self.path, Arc::clone(&self.text))),
            span: Some(SourceSpan::from(self.answers[id].span())),
        }
    }

    /// Whether the file answers `id`.
    pub fn has(&self, id: &str) -> bool {
        self.answers.contains_key(id)
    }

    /// The answer for `request`, checked against what it wants; `None` if the file has none.
    pub fn answer(&self, request: &PromptRequest) -> Option<Result<Answer, RuntimeError>> {
        let value = self.answers.get(&request.id)?;
        let answer = match (value.get_ref(), &request.kind) {
            (toml::Value::Boolean(flag), PromptKind::Confirm) => Answer::Bool(*flag),
            (toml::Value::String(text), _) => Answer::Text(text.clone()),
            (toml::Value::Integer(number), PromptKind::Record) => Answer::Text(number.to_string()),
            (toml::Value::Boolean(flag), PromptKind::Record) => Answer::Text(flag.to_string()),
            _ => Answer::Text(String::new()),
        };
        if answer.fits(&request.kind) {
            return Some(Ok(answer));
        }
        Some(Err(
            self.wrong_kind(&request.id, &expected_answer(&request.kind))
        ))
    }
}

/// What an answer to a prompt of `kind` must be, for a diagnostic.
fn expected_answer(kind: &PromptKind) -> String {
    match kind {
        PromptKind::Confirm => "`true` or `false`".to_string(),
        PromptKind::Record => "a string".to_string(),
        PromptKind::Choose(options) => format!(
            "one of the options {}",
            options
                .iter()
                .map(|option| format!("\"{}\"", option.name))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        PromptKind::Select(servers) if servers.is_empty() => "a server name (a string)".to_string(),
        PromptKind::Select(servers) => format!(
            "one of the servers {}",
            servers
                .iter()
                .map(|server| format!("\"{server}\""))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// The answer `--yes` gives: the request's own default when it has one (a
/// `select` offers the server the run saw become Active; a confirmation
/// that loses administrator changes is declined unless `accept_data_loss`),
/// else confirm, the default option, the first server. A `choose` without a
/// default and a `record` get none.
pub fn yes_answer(request: &PromptRequest, accept_data_loss: bool) -> Option<Answer> {
    if request.data_loss {
        return Some(Answer::Bool(accept_data_loss));
    }
    if let Some(answer) = &request.default {
        return Some(answer.clone());
    }
    match &request.kind {
        PromptKind::Confirm => Some(Answer::Bool(true)),
        PromptKind::Choose(options) => options
            .iter()
            .find(|option| option.is_default)
            .map(|option| Answer::Text(option.name.clone())),
        PromptKind::Select(servers) => servers.first().cloned().map(Answer::Text),
        PromptKind::Record => None,
    }
}

/// The usual prompter: answers file first, then `--yes`, then the terminal
/// (only when stdin and stderr are one), otherwise [`PromptError::Unavailable`].
#[derive(Debug)]
pub struct OperatorPrompter {
    answers: Option<AnswersFile>,
    yes: bool,
    accept_data_loss: bool,
    interactive: bool,
}

impl OperatorPrompter {
    /// A prompter; `interactive` is honoured only when stdin and stderr are
    /// a terminal.
    pub fn new(answers: Option<AnswersFile>, yes: bool, interactive: bool) -> Self {
        Self {
            answers,
            yes,
            accept_data_loss: false,
            // Keys are read from stdin, the question is drawn on stderr.
            interactive: interactive
                && std::io::stdin().is_terminal()
                && std::io::stderr().is_terminal(),
        }
    }

    /// A prompter that never uses the terminal (tests, `plan`).
    pub fn non_interactive(answers: Option<AnswersFile>, yes: bool) -> Self {
        Self {
            answers,
            yes,
            accept_data_loss: false,
            interactive: false,
        }
    }

    /// With `--accept-data-loss`: `--yes` also confirms losing administrator
    /// changes.
    pub fn accepting_data_loss(mut self, accept: bool) -> Self {
        self.accept_data_loss = accept;
        self
    }
}

impl Prompter for OperatorPrompter {
    fn waits(&self, request: &PromptRequest) -> bool {
        let answered_by_file = self
            .answers
            .as_ref()
            .is_some_and(|answers| answers.answer(request).is_some());
        let answered_by_yes = self.yes && yes_answer(request, self.accept_data_loss).is_some();
        self.interactive && !answered_by_file && !answered_by_yes
    }

    fn ask(&mut self, request: &PromptRequest) -> Result<(Answer, AnswerSource), PromptError> {
        if let Some(answers) = &self.answers {
            match answers.answer(request) {
                Some(Ok(answer)) => return Ok((answer, AnswerSource::AnswersFile)),
                Some(Err(error)) => return Err(PromptError::Failed(Box::new(error))),
                None => {}
            }
        }
        if self.yes {
            if let Some(answer) = yes_answer(request, self.accept_data_loss) {
                return Ok((answer, AnswerSource::Yes));
            }
        }
        if self.interactive {
            return match ask_terminal(request) {
                Ok(answer) => Ok((answer, AnswerSource::Terminal)),
                Err(TerminalError::Interrupted) => Err(PromptError::Interrupted),
                Err(TerminalError::Failed(reason)) => {
                    Err(PromptError::Failed(Box::new(RuntimeError::Terminal {
                        id: request.id.clone(),
                        reason,
                    })))
                }
            };
        }
        Err(PromptError::Unavailable)
    }
}

/// Why the terminal gave no answer.
enum TerminalError {
    /// Ctrl-C.
    Interrupted,
    /// Anything else, as text.
    Failed(String),
}

impl From<dialoguer::Error> for TerminalError {
    fn from(error: dialoguer::Error) -> Self {
        match error {
            // console turns the Ctrl-C byte it reads in raw mode into this
            // (and raises SIGINT, which the run's Ctrl-C watcher sees too).
            dialoguer::Error::IO(io) if io.kind() == std::io::ErrorKind::Interrupted => {
                Self::Interrupted
            }
            other => Self::Failed(other.to_string()),
        }
    }
}

/// Held while a question is on the terminal.
static TERMINAL_TURN: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Asks on the terminal (stderr), so that stdout stays the run's output.
///
/// The question is written first, on its own line, and never redrawn: the
/// prompt library redraws what it draws by counting lines, and a long
/// question the terminal wrapped would leave pieces behind. Below it, the
/// answer widget (`[y/N]`, a menu, a `>` line) holds no more than a line, and
/// is cleared once answered: the run's output reports the answer.
fn ask_terminal(request: &PromptRequest) -> Result<Answer, TerminalError> {
    // One question on the terminal at a time: the clusters of a fleet ask
    // in turn, the others wait for theirs.
    let _turn = TERMINAL_TURN
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let term = console::Term::stderr();
    let guard = PromptTerminal::enter();
    let answer = term
        .write_line(&format!("[{}] {}", request.id, request.text))
        .map_err(|error| TerminalError::Failed(error.to_string()))
        .and_then(|()| ask_on(&term, request));
    drop(guard);
    if answer.is_err() {
        // dialoguer leaves the cursor hidden (menus) and the line
        // unfinished (confirm, record) when it is cut short.
        let _ = term.show_cursor();
        if !matches!(request.kind, PromptKind::Choose(_) | PromptKind::Select(_)) {
            let _ = term.write_line("");
        }
    }
    answer
}

fn ask_on(term: &console::Term, request: &PromptRequest) -> Result<Answer, TerminalError> {
    use dialoguer::{Confirm, Input, Select};
    let theme = AnswerTheme;
    let width = usize::from(term.size().1).max(20);
    match &request.kind {
        PromptKind::Confirm => Ok(Answer::Bool(
            Confirm::with_theme(&theme)
                .default(false)
                .report(false)
                .interact_on(term)?,
        )),
        PromptKind::Record => {
            let text = Input::<String>::with_theme(&theme)
                .allow_empty(true)
                .report(false)
                .interact_text_on(term)?;
            // dialoguer cleared the line the cursor is on; a long answer the
            // terminal wrapped also covers the lines above it.
            let shown =
                console::measure_text_width(INPUT_MARK) + console::measure_text_width(&text);
            let _ = term.clear_last_lines(shown.saturating_sub(1) / width);
            Ok(Answer::Text(text))
        }
        PromptKind::Choose(options) => {
            let full: Vec<String> = options
                .iter()
                .map(|option| format!("{} — {}", option.name, option.label))
                .collect();
            let room = width.saturating_sub(6);
            // An option too wide for one menu line is never cut: every
            // option is written out in full (wrapped between words) above a
            // menu of the option names.
            let listed = if full
                .iter()
                .any(|label| console::measure_text_width(label) > room)
            {
                let text: Vec<String> = full
                    .iter()
                    .map(|label| crate::wrap::wrap(label, room).replace('\n', "\n      "))
                    .map(|label| format!("    • {label}"))
                    .collect();
                let text = text.join("\n");
                term.write_line(&text)
                    .map_err(|error| TerminalError::Failed(error.to_string()))?;
                text.lines().count()
            } else {
                0
            };
            let labels: Vec<String> = if listed > 0 {
                options
                    .iter()
                    .map(|option| fit(&option.name, width))
                    .collect()
            } else {
                full
            };
            let default = options
                .iter()
                .position(|option| option.is_default)
                .unwrap_or(0);
            let index = Select::with_theme(&theme)
                .items(&labels)
                .default(default)
                .report(false)
                .interact_on(term)?;
            let _ = term.clear_last_lines(listed);
            options
                .get(index)
                .map(|option| Answer::Text(option.name.clone()))
                .ok_or_else(|| TerminalError::Failed(String::from("no option chosen")))
        }
        PromptKind::Select(servers) => {
            let labels: Vec<String> = servers.iter().map(|server| fit(server, width)).collect();
            let default = servers
                .iter()
                .position(|server| request.default == Some(Answer::Text(server.clone())))
                .unwrap_or(0);
            let index = Select::with_theme(&theme)
                .items(&labels)
                .default(default)
                .report(false)
                .interact_on(term)?;
            servers
                .get(index)
                .map(|server| Answer::Text(server.clone()))
                .ok_or_else(|| TerminalError::Failed(String::from("no server chosen")))
        }
    }
}

/// What starts the line an observation is typed on.
const INPUT_MARK: &str = "  > ";

/// The answer widgets, indented under the question.
struct AnswerTheme;

impl dialoguer::theme::Theme for AnswerTheme {
    fn format_confirm_prompt(
        &self,
        f: &mut dyn std::fmt::Write,
        _prompt: &str,
        _default: Option<bool>,
    ) -> std::fmt::Result {
        write!(f, "  [y/N] ")
    }

    fn format_input_prompt(
        &self,
        f: &mut dyn std::fmt::Write,
        _prompt: &str,
        _default: Option<&str>,
    ) -> std::fmt::Result {
        write!(f, "{INPUT_MARK}")
    }

    fn format_select_prompt_item(
        &self,
        f: &mut dyn std::fmt::Write,
        text: &str,
        active: bool,
    ) -> std::fmt::Result {
        write!(f, "  {} {text}", if active { ">" } else { " " })
    }
}

/// `text` cut to hold on one line of a menu `width` columns wide: dialoguer
/// counts a menu item as one line, and (to find wrapped ones) measures it in
/// bytes, so the byte length is what must fit.
fn fit(text: &str, width: usize) -> String {
    let room = width.saturating_sub(6);
    if text.len() <= room {
        return text.to_string();
    }
    let mut cut = String::new();
    for character in text.chars() {
        if cut.len() + character.len_utf8() + '…'.len_utf8() > room {
            break;
        }
        cut.push(character);
    }
    cut.push('…');
    cut
}

/// The terminal's modes from before the prompt on screen, if one is.
#[cfg(unix)]
static SAVED_MODES: std::sync::Mutex<Option<rustix::termios::Termios>> =
    std::sync::Mutex::new(None);

#[cfg(unix)]
fn saved_modes() -> std::sync::MutexGuard<'static, Option<rustix::termios::Termios>> {
    SAVED_MODES
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The terminal's modes while a prompt is shown. Entering discards what was
/// typed before the question appeared (a stray Enter pressed during a long
/// operation must not answer it) and turns off echo, line editing and the
/// Ctrl-C signal for the whole prompt: the prompt library reads key by key
/// and switches the terminal back between keys, so without this a key that
/// arrives in between is echoed twice and a Ctrl-C there is not seen as one.
/// Dropping it restores the modes.
struct PromptTerminal;

impl PromptTerminal {
    fn enter() -> Self {
        #[cfg(unix)]
        {
            use rustix::termios::{self, LocalModes, OptionalActions, QueueSelector};
            let stdin = std::io::stdin();
            if let Ok(saved) = termios::tcgetattr(&stdin) {
                let _ = termios::tcflush(&stdin, QueueSelector::IFlush);
                let mut quiet = saved.clone();
                quiet.local_modes -=
                    LocalModes::ECHO | LocalModes::ICANON | LocalModes::ISIG | LocalModes::IEXTEN;
                if termios::tcsetattr(&stdin, OptionalActions::Now, &quiet).is_ok() {
                    *saved_modes() = Some(saved);
                }
            }
        }
        Self
    }
}

impl Drop for PromptTerminal {
    fn drop(&mut self) {
        restore_modes();
    }
}

fn restore_modes() {
    #[cfg(unix)]
    if let Some(saved) = saved_modes().take() {
        let _ = rustix::termios::tcsetattr(
            std::io::stdin(),
            rustix::termios::OptionalActions::Now,
            &saved,
        );
    }
}

/// Gives the terminal back as it was before the prompt on screen (modes,
/// visible cursor): for a process that exits while a prompt is shown.
pub fn restore_terminal() {
    restore_modes();
    let _ = console::Term::stderr().show_cursor();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn choose() -> PromptRequest {
        PromptRequest {
            id: "method".into(),
            text: "Which?".into(),
            kind: PromptKind::Choose(vec![
                ChoiceOption {
                    name: "downtime".into(),
                    label: "With downtime".into(),
                    is_default: true,
                },
                ChoiceOption {
                    name: "no-downtime".into(),
                    label: "Without".into(),
                    is_default: false,
                },
            ]),
            default: None,
            data_loss: false,
        }
    }

    #[test]
    fn answers_file_answers_are_checked_against_the_prompt() {
        let answers = AnswersFile::parse("a.toml", "method = \"sideways\"\nok = true\n").unwrap();
        let error = answers.answer(&choose()).unwrap().unwrap_err();
        assert!(
            error.to_string().contains("\"downtime\", \"no-downtime\""),
            "{error}"
        );
        let confirm = PromptRequest {
            id: "ok".into(),
            text: "ok?".into(),
            kind: PromptKind::Confirm,
            default: None,
            data_loss: false,
        };
        assert_eq!(
            answers.answer(&confirm).unwrap().unwrap(),
            Answer::Bool(true)
        );
    }

    #[test]
    fn a_bad_answers_file_has_a_location() {
        let error = AnswersFile::parse("a.toml", "method = \n").unwrap_err();
        match error {
            RuntimeError::AnswersFile { span, .. } => assert!(span.is_some()),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn menu_entries_are_cut_to_hold_on_one_line_in_bytes() {
        assert_eq!(fit("stop — Stop them", 80), "stop — Stop them");
        let cut = fit(
            "acceptable — Yes, downtime is acceptable: upgrade with downtime",
            30,
        );
        assert!(cut.len() <= 24, "{cut:?}");
        assert!(
            cut.starts_with("acceptable — Yes") && cut.ends_with('…'),
            "{cut:?}"
        );
    }

    #[test]
    fn without_terminal_or_answer_a_prompt_is_unavailable_at_once() {
        let mut prompter = OperatorPrompter::non_interactive(None, false);
        assert!(matches!(
            prompter.ask(&choose()),
            Err(PromptError::Unavailable)
        ));
        let mut yes = OperatorPrompter::non_interactive(None, true);
        let (answer, source) = yes.ask(&choose()).unwrap();
        assert_eq!(answer, Answer::Text("downtime".into()));
        assert_eq!(source, AnswerSource::Yes);
    }

    #[test]
    fn only_a_prompt_left_to_the_terminal_waits() {
        let terminal = |answers: Option<AnswersFile>, yes: bool| OperatorPrompter {
            answers,
            yes,
            accept_data_loss: false,
            interactive: true,
        };
        assert!(terminal(None, false).waits(&choose()));
        assert!(!terminal(None, true).waits(&choose()), "--yes answers it");
        let answers = AnswersFile::parse("a.toml", "method = \"downtime\"\n").unwrap();
        assert!(!terminal(Some(answers), false).waits(&choose()));
        assert!(!OperatorPrompter::non_interactive(None, false).waits(&choose()));
    }
}

#[cfg(test)]
mod replay_tests {
    use super::{Answer, PromptKind};

    #[test]
    fn a_journaled_server_stands_when_the_live_list_no_longer_offers_it() {
        let now = PromptKind::Select(vec!["mgt-3".to_string()]);
        let chosen = Answer::Text("mgt-2".to_string());
        assert!(!chosen.fits(&now), "a fresh answer must be one of the list");
        assert!(
            chosen.replays(&now),
            "a journaled choice keeps the run's roles"
        );
        assert!(!Answer::Bool(true).replays(&now));
    }
}
