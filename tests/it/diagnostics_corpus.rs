//! Not a check but a tool for grammar changes: writes what the parser makes
//! of ~100k edits of every shipped runbook and test fixture (deleted,
//! replaced, inserted, duplicated tokens; truncations), one line per edit,
//! so that two versions of the parser can be compared with `diff`
//! (docs/performance.md, "Changing the grammar"). A parse that succeeds is
//! written as hashes of its tree (with and without the spans of doc
//! comments), a failed one as its errors.
//!
//! ```sh
//! RUNBOOK_CORPUS_OUT=/tmp/before.txt cargo test --release --test it diagnostics_corpus:: -- --ignored
//! ```

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Pieces inserted into or substituted for a token.
const PIECES: &[&str] = &[
    "=", "==", "{", "}", "(", ")", "[", "]", ",", ":", ".", "\"s\"", "step", "else", "and", "not",
    "1", "5x", "x", "let", "-", "what-if", "option", "///d\n", "STB_REP", "7.4", "if", "in",
    "select", "<", "!", "default", "true", "all", "note", "wait", "check", "upgrade", "(x: 1)",
    "\\", "é", "10min", "1.",
];

/// Byte ranges of the tokens of `source` (words, strings, comments, other
/// characters).
fn tokens(source: &str) -> Vec<(usize, usize)> {
    let bytes = source.as_bytes();
    let is_word = |byte: u8| byte.is_ascii_alphanumeric() || byte == b'_' || byte == b'-';
    let mut out = Vec::new();
    let mut index = 0;
    while index < bytes.len() {
        let byte = bytes[index];
        if byte.is_ascii_whitespace() {
            index += 1;
            continue;
        }
        let start = index;
        if byte == b'"' {
            index += 1;
            while index < bytes.len() && bytes[index] != b'"' {
                index += if bytes[index] == b'\\' { 2 } else { 1 };
            }
            index = (index + 1).min(bytes.len());
        } else if byte.is_ascii_alphanumeric() || byte == b'_' {
            while index < bytes.len() && is_word(bytes[index]) {
                index += 1;
            }
        } else if source[index..].starts_with("//") {
            index = source[index..]
                .find('\n')
                .map_or(bytes.len(), |end| index + end);
        } else {
            index += source[index..].chars().next().map_or(1, char::len_utf8);
        }
        out.push((start, index.min(bytes.len())));
    }
    out
}

/// xorshift64: the same edits on every run.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

/// One edit of `source`: its name and the edited text.
fn edit(source: &str, tokens: &[(usize, usize)], rng: &mut Rng) -> (String, String) {
    let index = rng.below(tokens.len());
    let (start, end) = tokens[index];
    let piece = PIECES[rng.below(PIECES.len())];
    let (before, token, after) = (&source[..start], &source[start..end], &source[end..]);
    match rng.below(6) {
        0 => (format!("delete {index}"), format!("{before}{after}")),
        1 => (
            format!("replace {index} {piece:?}"),
            format!("{before}{piece}{after}"),
        ),
        2 => (
            format!("insert {index} {piece:?}"),
            format!("{before}{piece} {token}{after}"),
        ),
        3 => (format!("cut {index}"), format!("{before}{token}")),
        4 => (
            format!("repeat {index}"),
            format!("{before}{token}{token}{after}"),
        ),
        _ => (
            format!("append {index} {piece:?}"),
            format!("{before}{token}{piece}{after}"),
        ),
    }
}

fn runbook_files(root: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut directories = vec![root.join("runbooks"), root.join("tests/fixtures")];
    while let Some(directory) = directories.pop() {
        for entry in std::fs::read_dir(&directory).expect("a readable directory") {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                directories.push(path);
            } else if path
                .extension()
                .is_some_and(|extension| extension == "runbook")
            {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// `Debug` of a tree without the spans of doc comments.
fn without_doc_spans(debug: &str) -> String {
    let mut out = String::with_capacity(debug.len());
    let mut rest = debug;
    while let Some(doc) = rest.find("Doc { text: ") {
        let Some(span) = rest[doc..].find("span: Span {").map(|at| doc + at) else {
            break;
        };
        let end = span + rest[span..].find('}').map_or(0, |at| at + 1);
        out.push_str(&rest[..span]);
        out.push_str("span: _");
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

fn hash(text: &str) -> u64 {
    let mut hasher = DefaultHasher::new();
    text.hash(&mut hasher);
    hasher.finish()
}

#[test]
#[ignore = "a tool: writes the corpus to RUNBOOK_CORPUS_OUT"]
fn write_diagnostics_corpus() {
    let out_path = std::env::var("RUNBOOK_CORPUS_OUT").expect("RUNBOOK_CORPUS_OUT=FILE");
    let edits: usize = std::env::var("RUNBOOK_CORPUS_EDITS")
        .ok()
        .and_then(|edits| edits.parse().ok())
        .unwrap_or(1000);
    let file = std::fs::File::create(&out_path).expect("the output file can be created");
    let mut out = std::io::BufWriter::new(file);
    for path in runbook_files(Path::new(env!("CARGO_MANIFEST_DIR"))) {
        let source = std::fs::read_to_string(&path).expect("a readable runbook");
        let name = path
            .file_name()
            .map_or_else(String::new, |name| name.to_string_lossy().into_owned());
        let tokens = tokens(&source);
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ (source.len() as u64 + 1));
        let mut cases = vec![("unchanged".to_string(), source.clone())];
        if !tokens.is_empty() {
            cases.extend((0..edits).map(|_| edit(&source, &tokens, &mut rng)));
        }
        for (label, text) in cases {
            let result = match runbook::syntax::parse(&text) {
                Ok(file) => {
                    let debug = format!("{file:?}");
                    format!(
                        "ok {:016x} {:016x}",
                        hash(&debug),
                        hash(&without_doc_spans(&debug))
                    )
                }
                Err(errors) => format!("error {errors:?}"),
            };
            writeln!(out, "{name} {}\t{result}", label.escape_debug()).expect("written");
        }
    }
    out.flush().expect("written");
}
