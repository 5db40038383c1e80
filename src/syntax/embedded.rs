//! The shipped runbooks of `runbooks/`, embedded in the binary so that
//! `runbook run upgrade-with-downtime` works from any directory, and so that
//! imports of `lib/...` resolve without the repository at hand.

use include_dir::{include_dir, Dir};

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
