//! `runbook fmt [PATH...] [--check]`: rewrite runbook files in the canonical
//! layout of [`crate::fmt`], or with `--check` only name the files that are
//! not in it (exit 1), like `rustfmt --check` and `ruff format --check`.

use super::stdout::{out, outln};
use std::io::Write as _;
use std::path::{Path, PathBuf};

use crate::check::project::find_runbooks;
use crate::syntax::{decode, Origin, Sources, MAX_FILE_SIZE};

use super::render;

/// `runbook fmt`.
#[derive(Debug, Clone, clap::Args)]
#[command(after_help = super::examples::FMT)]
pub struct FmtArgs {
    /// Files or directories (directories recursively, `*.runbook`), or `-`
    /// alone to format standard input to standard output (for editors).
    /// Default: `.`.
    pub paths: Vec<PathBuf>,
    /// Change nothing: list the files that are not formatted and exit 1 if
    /// there is any.
    #[arg(long)]
    pub check: bool,
}

/// What happened to one file.
enum Outcome {
    Unchanged,
    Reformatted,
    /// Syntax errors: the file is left alone.
    Refused,
    /// It could not be read or written.
    Unreadable(String),
}

/// Writes `text` to `path` through a temporary file in the same directory
/// and a rename, so an interrupted `fmt` never leaves half a file.
fn write_atomically(path: &Path, text: &str) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|dir| !dir.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let file_name = path
        .file_name()
        .and_then(|name| name.to_str())
        .unwrap_or("runbook");
    let temporary = dir.join(format!(".{file_name}.fmt-{}", std::process::id()));
    let result = (|| {
        let mut file = std::fs::File::create(&temporary)?;
        file.write_all(text.as_bytes())?;
        file.sync_all()?;
        if let Ok(metadata) = std::fs::metadata(path) {
            std::fs::set_permissions(&temporary, metadata.permissions())?;
        }
        std::fs::rename(&temporary, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    result
}

/// `runbook fmt -`: standard input formatted on standard output; with
/// `--check`, nothing printed but diagnostics, exit 1 when not formatted.
fn fmt_stdin(check: bool) -> i32 {
    use std::io::Read as _;
    let mut bytes = Vec::new();
    if let Err(error) = std::io::stdin()
        .take(MAX_FILE_SIZE + 1)
        .read_to_end(&mut bytes)
    {
        eprintln!("error: cannot read standard input: {error}");
        return 2;
    }
    let parsed = decode(&bytes)
        .map_err(|error| vec![error])
        .and_then(|text| crate::fmt::format_source(text).map(|formatted| (text, formatted)));
    match parsed {
        Err(errors) => {
            let mut sources = Sources::new();
            let text = String::from_utf8_lossy(&bytes).into_owned();
            let id = sources.add("<stdin>", Origin::Memory, text);
            let handler = render::handler();
            for error in errors {
                eprint!("{}", render::human(&handler, &sources, id, error));
            }
            1
        }
        Ok((text, formatted)) if check => {
            if text == formatted {
                0
            } else {
                eprintln!("would reformat <stdin>");
                1
            }
        }
        Ok((_, formatted)) => {
            let mut stdout = std::io::stdout().lock();
            match stdout
                .write_all(formatted.as_bytes())
                .and_then(|()| stdout.flush())
            {
                Ok(()) => 0,
                Err(error) => {
                    eprintln!("error: cannot write standard output: {error}");
                    2
                }
            }
        }
    }
}

/// Runs `runbook fmt`; returns the exit code (0 formatted, 1 unformatted
/// files under `--check` or syntax errors, 2 unreadable paths).
pub fn fmt(args: FmtArgs) -> i32 {
    if args.paths.len() == 1 && args.paths[0] == Path::new("-") {
        return fmt_stdin(args.check);
    }
    let paths = if args.paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        args.paths.clone()
    };
    let mut files = Vec::new();
    let mut unreadable: Vec<(PathBuf, String)> = Vec::new();
    for path in &paths {
        if path.is_dir() {
            find_runbooks(path, &mut files, &mut unreadable);
        } else if path.exists() {
            // A pipe or a device is refused when read, naming what it is.
            files.push(path.clone());
        } else {
            unreadable.push((path.clone(), "no such file or directory".to_string()));
        }
    }

    let handler = render::handler();
    let mut sources = Sources::new();
    let mut reformatted = 0usize;
    let mut unformatted: Vec<&Path> = Vec::new();
    let mut refused = 0usize;
    for path in &files {
        let outcome = match crate::syntax::read_runbook_file(path) {
            Err(error) => Outcome::Unreadable(error.to_string()),
            Ok(bytes) => {
                let parsed = decode(&bytes)
                    .map_err(|error| vec![error])
                    .and_then(|text| {
                        crate::fmt::format_source(text).map(|formatted| (text, formatted))
                    });
                match parsed {
                    Err(errors) => {
                        let text = String::from_utf8_lossy(&bytes).into_owned();
                        let id = sources.add(
                            path.display().to_string(),
                            Origin::Path(path.clone()),
                            text,
                        );
                        for error in errors {
                            out!("{}", render::human(&handler, &sources, id, error));
                            outln!();
                        }
                        Outcome::Refused
                    }
                    Ok((text, formatted)) if text == formatted => Outcome::Unchanged,
                    Ok(_) if args.check => Outcome::Reformatted,
                    Ok((_, formatted)) => match write_atomically(path, &formatted) {
                        Ok(()) => Outcome::Reformatted,
                        Err(error) => Outcome::Unreadable(format!("cannot write: {error}")),
                    },
                }
            }
        };
        match outcome {
            Outcome::Unchanged => {}
            Outcome::Reformatted if args.check => {
                outln!("would reformat {}", path.display());
                unformatted.push(path);
            }
            Outcome::Reformatted => reformatted += 1,
            Outcome::Refused => refused += 1,
            Outcome::Unreadable(reason) => unreadable.push((path.clone(), reason)),
        }
    }

    for (path, reason) in &unreadable {
        eprintln!(
            "{:?}",
            miette::miette!(
                code = crate::check::report::UNREADABLE,
                help = crate::check::report::unreadable_help(&path.display().to_string()),
                "cannot read `{}`: {reason}",
                path.display()
            )
        );
    }
    let total = files.len();
    let plural = |count: usize| if count == 1 { "file" } else { "files" };
    // Nothing read at all: the errors above are the whole story.
    let nothing_read = total == 0 && !unreadable.is_empty();
    if nothing_read {
        // No summary: "0 files reformatted" would read like a success.
    } else if args.check && !unformatted.is_empty() {
        outln!(
            "{} {} would be reformatted, {} already formatted",
            unformatted.len(),
            plural(unformatted.len()),
            total - unformatted.len() - refused
        );
    } else if args.check {
        outln!("{total} {} already formatted", plural(total));
    } else {
        outln!(
            "{reformatted} {} reformatted, {} left unchanged",
            plural(reformatted),
            total - reformatted - refused
        );
    }
    if refused > 0 {
        eprintln!(
            "error: {refused} {} with syntax errors left unformatted: fix them first (`runbook check`)",
            plural(refused)
        );
    }
    if !unreadable.is_empty() {
        2
    } else if refused > 0 || !unformatted.is_empty() {
        1
    } else {
        0
    }
}
