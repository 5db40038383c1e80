//! Where files come from: the [`Loader`] trait, and [`FsLoader`], which
//! reads the file system and falls back on the runbooks shipped in the
//! binary for imports; the name diagnostics show for a file.

use std::io::Read;
use std::path::{Component, Path, PathBuf};

use crate::syntax::embedded;
use crate::syntax::parser::MAX_FILE_SIZE;
use crate::syntax::source::Origin;

/// Where files come from.
pub trait Loader {
    /// The file an `import "PATH"` written in the file at `from` refers to,
    /// or a reason why there is none.
    fn locate(&self, from: &Origin, path: &str) -> Result<Origin, String>;
    /// The file's bytes; at most [`MAX_FILE_SIZE`] + 1 of them need be read.
    fn read(&self, origin: &Origin) -> std::io::Result<Vec<u8>>;
}

/// The file system, with the shipped runbooks as a fallback for imports
/// (`import "lib/exclude-server.runbook"` works from any directory).
#[derive(Debug, Clone, Copy, Default)]
pub struct FsLoader;

/// Joins `path` to the directory of `file` inside the embedded tree,
/// resolving `.` and `..`; `None` when it leaves the tree.
fn embedded_join(file: &str, path: &str) -> Option<String> {
    let mut parts: Vec<&str> = file.split('/').collect();
    parts.pop();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            other => parts.push(other),
        }
    }
    Some(parts.join("/"))
}

fn normalize(path: &Path) -> PathBuf {
    let mut normalized = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir if normalized.file_name().is_some() => {
                normalized.pop();
            }
            other => normalized.push(other.as_os_str()),
        }
    }
    normalized
}

/// The bytes of the runbook file at `path`, at most [`MAX_FILE_SIZE`] + 1 of
/// them (the parser refuses a file past the limit without it being read
/// whole). Only a regular file is opened: a FIFO, a socket or a device
/// (`/dev/stdin`, `/dev/zero`) would block or never end, and is refused
/// with an error naming what it is.
pub fn read_runbook_file(path: &Path) -> std::io::Result<Vec<u8>> {
    let metadata = std::fs::metadata(path)?;
    if metadata.is_dir() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "it is a directory, not a file",
        ));
    }
    if !metadata.is_file() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "it is not a regular file (a pipe, a socket or a device), which is never read",
        ));
    }
    let mut bytes = Vec::new();
    std::fs::File::open(path)?
        .take(MAX_FILE_SIZE + 1)
        .read_to_end(&mut bytes)?;
    Ok(bytes)
}

impl Loader for FsLoader {
    fn locate(&self, from: &Origin, path: &str) -> Result<Origin, String> {
        match from {
            Origin::Embedded(file) => embedded_join(file, path)
                .filter(|joined| embedded::file(joined).is_some())
                .map(Origin::Embedded)
                .ok_or_else(|| format!("no shipped file `{path}`")),
            Origin::Path(_) | Origin::Memory => {
                let base = match from {
                    Origin::Path(file) => file.parent().map(Path::to_path_buf).unwrap_or_default(),
                    _ => PathBuf::new(),
                };
                let joined = normalize(&base.join(path));
                if joined.is_file() {
                    return Ok(Origin::Path(joined));
                }
                match embedded_join("", path).filter(|shipped| embedded::file(shipped).is_some()) {
                    Some(shipped) => Ok(Origin::Embedded(shipped)),
                    None => Err(format!(
                        "`{}` does not exist and no shipped file has that path",
                        joined.display()
                    )),
                }
            }
        }
    }

    fn read(&self, origin: &Origin) -> std::io::Result<Vec<u8>> {
        match origin {
            Origin::Path(path) => read_runbook_file(path),
            Origin::Embedded(path) => embedded::file(path)
                .map(|text| text.as_bytes().to_vec())
                .ok_or_else(|| {
                    std::io::Error::new(
                        std::io::ErrorKind::NotFound,
                        format!("no shipped file `{path}`"),
                    )
                }),
            Origin::Memory => Err(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "text given in memory cannot be read again",
            )),
        }
    }
}

/// The name diagnostics show for a file.
pub fn display_name(origin: &Origin) -> String {
    match origin {
        Origin::Path(path) => path.display().to_string(),
        Origin::Embedded(path) => format!("runbooks/{path}"),
        Origin::Memory => "<input>".to_string(),
    }
}
