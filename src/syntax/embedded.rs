//! The shipped runbooks of `runbooks/`, embedded in the binary so that
//! `runbook run upgrade-with-downtime` works from any directory, and so that
//! imports of `lib/...` resolve without the repository at hand.

use include_dir::{include_dir, Dir};
use miette::Diagnostic;
use thiserror::Error;

static RUNBOOKS: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/runbooks");

/// One shipped file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shipped {
    /// The name a RUNBOOK argument can use: the file stem
    /// (`upgrade-with-downtime`).
    pub name: &'static str,
    /// The path under `runbooks/` (`upgrade-with-downtime.runbook`,
    /// `lib/exclude-server.runbook`).
    pub path: &'static str,
    /// The file's text.
    pub source: &'static str,
}

fn collect(dir: &'static Dir<'static>, into: &mut Vec<Shipped>) {
    for file in dir.files() {
        let path = file.path();
        if path.extension().and_then(|ext| ext.to_str()) != Some("runbook") {
            continue;
        }
        let (Some(path_text), Some(name), Some(source)) = (
            path.to_str(),
            path.file_stem().and_then(|stem| stem.to_str()),
            file.contents_utf8(),
        ) else {
            continue;
        };
        into.push(Shipped {
            name,
            path: path_text,
            source,
        });
    }
    for sub in dir.dirs() {
        collect(sub, into);
    }
}

/// Every shipped `.runbook` file, top-level runbooks and `lib/` procedures,
/// sorted by path.
pub fn all() -> Vec<Shipped> {
    let mut files = Vec::new();
    collect(&RUNBOOKS, &mut files);
    files.sort_by_key(|file| file.path);
    files
}

/// The shipped runbooks a user runs: the `.runbook` files at the top of
/// `runbooks/` (not `lib/`), sorted by name.
pub fn shipped() -> Vec<Shipped> {
    all()
        .into_iter()
        .filter(|file| !file.path.contains('/'))
        .collect()
}

/// The shipped runbook called `name` (`upgrade-with-downtime`), or at path
/// `name` under `runbooks/` (`lib/exclude-server.runbook`).
pub fn find(name: &str) -> Option<Shipped> {
    let files = all();
    files
        .iter()
        .find(|file| file.path == name)
        .or_else(|| {
            files
                .iter()
                .find(|file| !file.path.contains('/') && file.name == name)
        })
        .copied()
}

/// The shipped file at `path` under `runbooks/`.
pub fn file(path: &str) -> Option<&'static str> {
    RUNBOOKS
        .get_file(path)
        .and_then(|file| file.contents_utf8())
}

/// A RUNBOOK argument that is neither a file nor a shipped runbook: the
/// one error of every command that takes one (`run`, `plan`, `verify`,
/// `graph`, `show`), with the closest shipped name.
#[derive(Debug, Clone, Error, Diagnostic)]
#[error("`{reference}` is neither a file nor a shipped runbook")]
#[diagnostic(code(runbook::run::unknown_runbook), help("{help}"))]
pub struct UnknownRunbook {
    /// The argument as given.
    pub reference: String,
    /// What to do, with the closest shipped name when one is close.
    pub help: String,
}

impl UnknownRunbook {
    /// The error for `reference`, suggesting the closest shipped runbook or
    /// procedure (`lib/NAME`).
    pub fn new(reference: &str) -> Self {
        let wanted = reference.trim_end_matches(".runbook");
        let candidates = all().into_iter().map(|file| {
            if file.path.contains('/') {
                file.path.trim_end_matches(".runbook")
            } else {
                file.name
            }
        });
        let help = match closest_name(wanted, candidates) {
            Some(name) => format!(
                "did you mean `{name}`? `runbook list` lists the shipped runbooks; a path must name an existing file"
            ),
            None => format!(
                "the shipped runbooks are {} (`runbook list`); a path must name an existing file",
                shipped()
                    .iter()
                    .map(|file| format!("`{}`", file.name))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        UnknownRunbook {
            reference: reference.to_owned(),
            help,
        }
    }
}

/// The candidate closest to `wanted`, a typo of it or a name it begins
/// (`upgrade-prep`), if one is close enough: the "did you mean" of the
/// commands that take a name (`run`, `show`, `schema`, ...).
pub fn closest_name<'a>(
    wanted: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|candidate| {
            let distance = if !wanted.is_empty() && candidate.starts_with(wanted) {
                0
            } else {
                strsim::levenshtein(wanted, candidate)
            };
            (distance, candidate)
        })
        .filter(|(distance, candidate)| *distance <= 3.max(candidate.len() / 4))
        .min()
        .map(|(_, candidate)| candidate)
}

#[cfg(test)]
mod tests {
    use super::UnknownRunbook;

    #[test]
    fn the_closest_shipped_name_is_suggested() {
        let help = UnknownRunbook::new("upgrade-with-downtim").help;
        assert!(
            help.starts_with("did you mean `upgrade-with-downtime`?"),
            "{help}"
        );
        let help = UnknownRunbook::new("lib/exclude-srever").help;
        assert!(
            help.starts_with("did you mean `lib/exclude-server`?"),
            "{help}"
        );
        let help = UnknownRunbook::new("upgrade-prep").help;
        assert!(
            help.starts_with("did you mean `upgrade-preparation`?"),
            "{help}"
        );
        let help = UnknownRunbook::new("completely-else").help;
        assert!(!help.contains("did you mean"), "{help}");
    }
}
