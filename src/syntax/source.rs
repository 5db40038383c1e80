//! Every loaded source file, by [`FileId`]: its display name, where it came
//! from and its text. Diagnostics carry only a `FileId` and spans; the text is
//! attached once, when a report is rendered ([`Sources::report`]), so the
//! diagnostics of many files go out in one call.

use std::path::PathBuf;
use std::sync::Arc;

use miette::{MietteError, MietteSpanContents, SourceCode, SourceSpan, SpanContents};

use super::span::Span;

/// The index of a file in [`Sources`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub struct FileId(pub u32);

/// Where a source file came from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Origin {
    /// A file on disk.
    Path(PathBuf),
    /// A shipped runbook embedded in the binary, by its path under `runbooks/`
    /// (e.g. `lib/exclude-server.runbook`).
    Embedded(String),
    /// Text given directly (tests, benches, standard input).
    Memory,
}

/// Where each line of a text starts, for turning byte offsets into line
/// numbers; built once per file and shared (cheap to clone).
#[derive(Debug, Clone, Default)]
pub struct LineIndex(Arc<[u32]>);

impl LineIndex {
    /// The index of `text`.
    pub fn new(text: &str) -> Self {
        let starts: Vec<u32> = std::iter::once(0)
            .chain(
                text.bytes()
                    .enumerate()
                    .filter(|(_, byte)| *byte == b'\n')
                    .map(|(index, _)| u32::try_from(index + 1).unwrap_or(u32::MAX)),
            )
            .collect();
        Self(starts.into())
    }

    /// The 0-based line of a byte offset, and the byte offset where that line starts.
    pub fn line(&self, offset: u32) -> (usize, u32) {
        let line = self.0.partition_point(|start| *start <= offset).max(1) - 1;
        (line, self.0.get(line).copied().unwrap_or(0))
    }

    /// The 0-based line holding byte `offset` (offsets past the end map to
    /// the last line).
    pub fn line_of(&self, offset: usize) -> usize {
        self.line(u32::try_from(offset).unwrap_or(u32::MAX)).0
    }

    /// The byte offset where 0-based `line` starts, if the text has it.
    pub fn line_start(&self, line: usize) -> Option<usize> {
        self.0.get(line).map(|start| *start as usize)
    }

    /// How many lines the text has.
    pub fn line_count(&self) -> usize {
        self.0.len()
    }

    /// 1-based line and column of byte `offset` in `text` (the text this
    /// index was built from); columns count characters, as SARIF's
    /// `unicodeCodePoints` column kind and editors expect.
    pub fn position(&self, text: &str, offset: usize) -> (usize, usize) {
        let offset = offset.min(text.len());
        let (line, start) = self.line(u32::try_from(offset).unwrap_or(u32::MAX));
        let start = start as usize;
        let column = text
            .get(start..offset)
            .map(|prefix| prefix.chars().count())
            .unwrap_or(offset.saturating_sub(start));
        (line + 1, column + 1)
    }
}

/// One loaded file.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// The name shown in diagnostics (a path as the user wrote it, or
    /// `runbooks/…` for a shipped file).
    pub name: String,
    /// Where it came from.
    pub origin: Origin,
    /// The text (undecodable bytes replaced by U+FFFD, so it can be shown).
    pub text: Arc<str>,
    /// Where its lines start.
    pub lines: LineIndex,
}

impl SourceFile {
    /// 1-based line and 1-based column (in characters) of a byte offset.
    pub fn line_column(&self, offset: usize) -> (usize, usize) {
        self.lines.position(&self.text, offset)
    }

    /// The 1-based line and column where `span` starts.
    pub fn span_start(&self, span: Span) -> (usize, usize) {
        self.line_column(span.start as usize)
    }
}

/// Every file loaded during one command.
#[derive(Debug, Clone, Default)]
pub struct Sources {
    files: Vec<SourceFile>,
}

impl Sources {
    /// No file yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a file and returns its id.
    pub fn add(
        &mut self,
        name: impl Into<String>,
        origin: Origin,
        text: impl Into<Arc<str>>,
    ) -> FileId {
        let text: Arc<str> = text.into();
        let lines = LineIndex::new(&text);
        let id = FileId(u32::try_from(self.files.len()).unwrap_or(u32::MAX));
        self.files.push(SourceFile {
            name: name.into(),
            origin,
            text,
            lines,
        });
        id
    }

    /// The file with this id.
    ///
    /// # Panics
    /// Never for an id returned by [`Sources::add`] on this value.
    pub fn get(&self, id: FileId) -> &SourceFile {
        &self.files[id.0 as usize]
    }

    /// The file with this id, if it exists.
    pub fn try_get(&self, id: FileId) -> Option<&SourceFile> {
        self.files.get(id.0 as usize)
    }

    /// The already loaded file with this origin.
    pub fn find(&self, origin: &Origin) -> Option<FileId> {
        self.files
            .iter()
            .position(|file| &file.origin == origin)
            .map(|index| FileId(index as u32))
    }

    /// Every file, with its id.
    pub fn iter(&self) -> impl Iterator<Item = (FileId, &SourceFile)> {
        self.files
            .iter()
            .enumerate()
            .map(|(index, file)| (FileId(index as u32), file))
    }

    /// The file's text named for miette, with columns in characters.
    pub fn named_source(&self, id: FileId) -> ReportSource {
        match self.try_get(id) {
            Some(file) => ReportSource::new(&file.name, file.text.clone()),
            None => ReportSource::new("<unknown>", Arc::from("")),
        }
    }

    /// A report of `diagnostic` with the file's text attached.
    pub fn report<D>(&self, id: FileId, diagnostic: D) -> miette::Report
    where
        D: miette::Diagnostic + Send + Sync + 'static,
    {
        // A diagnostic without a source label (a binary or unreadable file)
        // would show no file name: its message names the file instead.
        if diagnostic.labels().is_none() {
            return miette::Report::new(InFile {
                file: self.get(id).name.clone(),
                inner: Box::new(diagnostic),
            })
            .with_source_code(self.named_source(id));
        }
        miette::Report::new(diagnostic).with_source_code(self.named_source(id))
    }
}

/// A diagnostic whose message starts with the file it is about.
#[derive(Debug)]
struct InFile {
    file: String,
    inner: Box<dyn miette::Diagnostic + Send + Sync>,
}

impl std::fmt::Display for InFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.file, self.inner)
    }
}

impl std::error::Error for InFile {}

impl miette::Diagnostic for InFile {
    fn code<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        self.inner.code()
    }
    fn severity(&self) -> Option<miette::Severity> {
        self.inner.severity()
    }
    fn help<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        self.inner.help()
    }
    fn url<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        self.inner.url()
    }
}

/// A file's name and text as miette source code. Unlike miette's own
/// `NamedSource`, the `line:column` in a report's header counts characters,
/// not bytes, so it is right with non-ASCII text.
#[derive(Debug, Clone)]
pub struct ReportSource {
    name: String,
    text: Arc<str>,
}

impl ReportSource {
    /// `text` shown under `name`.
    pub fn new(name: impl Into<String>, text: Arc<str>) -> Self {
        ReportSource {
            name: name.into(),
            text,
        }
    }
}

impl SourceCode for ReportSource {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let inner =
            self.text
                .as_ref()
                .read_span(span, context_lines_before, context_lines_after)?;
        // miette counts the column in bytes; count characters instead.
        let column = if inner.column() == 0 {
            0
        } else {
            let offset = span.offset().min(self.text.len());
            let line_start = self.text[..offset].rfind('\n').map_or(0, |index| index + 1);
            self.text
                .get(line_start..offset)
                .map_or(inner.column(), |prefix| prefix.chars().count())
        };
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.clone(),
            inner.data(),
            *inner.span(),
            inner.line(),
            column,
            inner.line_count(),
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::LineIndex;

    #[test]
    fn positions_are_one_based_and_count_characters() {
        let source = "ab\nçd\n";
        let index = LineIndex::new(source);
        assert_eq!(index.position(source, 0), (1, 1));
        assert_eq!(index.position(source, 3), (2, 1));
        assert_eq!(index.position(source, 5), (2, 2));
        assert_eq!(index.line_of(6), 1);
        assert_eq!(index.line_of(7), 2);
        assert_eq!(index.line_count(), 3);
        assert_eq!(index.line_start(1), Some(3));
    }
}
