//! Shell completions, computed by `runbook` itself at each Tab: `runbook
//! completions SHELL` prints the few lines a shell sources once, and the
//! shell then asks the binary (`RUNBOOK_COMPLETE=SHELL runbook -- WORDS`)
//! for candidates. Beyond flags and subcommands, it completes the shipped
//! runbook names (and `.runbook` files), the What-ifs and parameters of the
//! runbook named earlier on the line, and every diagnostic code.

use std::ffi::OsStr;

use clap::CommandFactory as _;
use clap_complete::engine::{ArgValueCompleter, CompletionCandidate, PathCompleter};
use clap_complete::env::Shells;
use clap_complete::Shell;

use crate::check::catalogue;
use crate::check::lint::registry;
use crate::syntax::embedded;

/// The environment variable through which a shell asks for candidates.
pub const COMPLETE_ENV: &str = "RUNBOOK_COMPLETE";

/// `runbook completions`.
#[derive(Debug, Clone, clap::Args)]
#[command(after_help = super::examples::COMPLETIONS)]
pub struct CompletionsArgs {
    /// The shell to print the registration for.
    #[arg(value_enum)]
    pub shell: Shell,
}

/// Answers a shell's request for candidates and exits, when the process
/// was started for that (`RUNBOOK_COMPLETE` set); otherwise returns.
pub fn answer_completion_request() {
    clap_complete::CompleteEnv::with_factory(super::Cli::command)
        .var(COMPLETE_ENV)
        .complete();
}

/// Prints the registration script on stdout; returns the exit code.
pub fn completions(args: CompletionsArgs) -> i32 {
    let name = args.shell.to_string();
    let shells = Shells::builtins();
    let Some(shell) = shells.completer(&name) else {
        eprintln!("error: no completion support for {name}");
        return 2;
    };
    let mut script = Vec::new();
    if let Err(error) =
        shell.write_registration(COMPLETE_ENV, "runbook", "runbook", "runbook", &mut script)
    {
        eprintln!("error: cannot write the completion script: {error}");
        return 2;
    }
    super::stdout::out!("{}", String::from_utf8_lossy(&script));
    0
}

/// `RUNBOOK` arguments: the shipped runbooks, `lib/` procedures, and
/// `.runbook` files and folders on disk.
pub fn runbooks() -> ArgValueCompleter {
    ArgValueCompleter::new(|current: &OsStr| {
        let typed = current.to_string_lossy();
        let mut candidates: Vec<CompletionCandidate> = embedded::all()
            .into_iter()
            .map(|file| {
                let name = if file.path.contains('/') {
                    file.path.trim_end_matches(".runbook").to_owned()
                } else {
                    file.name.to_owned()
                };
                let summary = crate::syntax::parse(file.source)
                    .ok()
                    .and_then(|parsed| parsed.title.map(|title| title.value));
                CompletionCandidate::new(name).help(summary.map(Into::into))
            })
            .filter(|candidate| starts_with(candidate, &typed))
            .collect();
        let files = PathCompleter::any().filter(|path| {
            path.is_dir()
                || path
                    .extension()
                    .is_some_and(|extension| extension == "runbook")
        });
        candidates.extend(clap_complete::engine::ValueCompleter::complete(
            &files, current,
        ));
        candidates
    })
}

/// Whether `candidate` completes what was typed.
fn starts_with(candidate: &CompletionCandidate, typed: &str) -> bool {
    candidate.get_value().to_string_lossy().starts_with(typed)
}

/// `explain CODE`: every lint rule (code and name) and `runbook::…` code.
pub fn codes() -> ArgValueCompleter {
    ArgValueCompleter::new(|current: &OsStr| {
        let typed = current.to_string_lossy();
        let rules = registry::RULES.iter().flat_map(|rule| {
            [
                CompletionCandidate::new(rule.code).help(Some(rule.summary().into())),
                CompletionCandidate::new(rule.name).help(Some(rule.code.into())),
            ]
        });
        let others = catalogue::entries()
            .map(|entry| CompletionCandidate::new(entry.code).help(Some(entry.summary.into())));
        rules
            .chain(others)
            .filter(|candidate| starts_with(candidate, &typed))
            .collect()
    })
}

/// `schema NAME`: every published schema.
pub fn schemas() -> ArgValueCompleter {
    ArgValueCompleter::new(|current: &OsStr| {
        let typed = current.to_string_lossy();
        super::schema::SCHEMAS
            .iter()
            .map(|schema| {
                CompletionCandidate::new(schema.name).help(Some(schema.description.into()))
            })
            .filter(|candidate| starts_with(candidate, &typed))
            .collect()
    })
}

/// The runbook named earlier on the command line being completed (the
/// first word after `run` or `plan` that names a runbook), parsed.
fn runbook_on_the_line() -> Option<crate::syntax::ast::File> {
    let words: Vec<String> = std::env::args().collect();
    let command = words
        .iter()
        .position(|word| word == "run" || word == "plan")?;
    words[command + 1..]
        .iter()
        .filter(|word| !word.starts_with('-'))
        .find_map(|word| {
            let text = match embedded::find(word) {
                Some(shipped) => shipped.source.to_owned(),
                None if word.ends_with(".runbook") => String::from_utf8(
                    crate::syntax::read_runbook_file(std::path::Path::new(word)).ok()?,
                )
                .ok()?,
                None => return None,
            };
            crate::syntax::parse(&text).ok()
        })
}

/// `--what-if NAME`: the What-ifs of the runbook named on the line.
pub fn what_ifs() -> ArgValueCompleter {
    ArgValueCompleter::new(|current: &OsStr| {
        let typed = current.to_string_lossy();
        runbook_on_the_line()
            .map(|file| {
                file.what_ifs
                    .iter()
                    .filter(|what_if| what_if.id.name.starts_with(typed.as_ref()))
                    .map(|what_if| {
                        CompletionCandidate::new(what_if.id.name.clone())
                            .help(Some(what_if.title.value.clone().into()))
                    })
                    .collect()
            })
            .unwrap_or_default()
    })
}

/// `--set NAME=VALUE`: the parameters of the runbook named on the line.
pub fn parameters() -> ArgValueCompleter {
    ArgValueCompleter::new(|current: &OsStr| {
        let typed = current.to_string_lossy();
        runbook_on_the_line()
            .map(|file| {
                file.params
                    .iter()
                    .map(|param| format!("{}=", param.name.name))
                    .filter(|candidate| candidate.starts_with(typed.as_ref()))
                    .map(CompletionCandidate::new)
                    .collect()
            })
            .unwrap_or_default()
    })
}
