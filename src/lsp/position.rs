//! Positions as the protocol counts them: a 0-based line and a column in
//! UTF-16 code units (what LSP requires unless another encoding is
//! negotiated), to and from the byte offsets of the syntax tree's spans.
//! Every conversion is total: an offset past the end, inside a character or
//! a line past the last one is clamped, never a panic.

use lsp_types::{Position, Range};

use crate::syntax::{LineIndex, Span};

/// One document's text with its line index, for converting positions.
#[derive(Debug, Clone)]
pub struct Text<'a> {
    text: &'a str,
    lines: LineIndex,
}

impl<'a> Text<'a> {
    /// The index of `text`.
    pub fn new(text: &'a str) -> Self {
        Text {
            text,
            lines: LineIndex::new(text),
        }
    }

    /// The text.
    pub fn as_str(&self) -> &'a str {
        self.text
    }

    /// The protocol position of byte `offset` (clamped to the text, and back
    /// to the start of the character it falls in).
    pub fn position(&self, offset: usize) -> Position {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self.lines.line_of(offset);
        let start = self.lines.line_start(line).unwrap_or(0).min(offset);
        let character: usize = self
            .text
            .get(start..offset)
            .map(|prefix| prefix.chars().map(char::len_utf16).sum())
            .unwrap_or(0);
        Position::new(saturate(line), saturate(character))
    }

    /// The protocol range of a span.
    pub fn range(&self, span: Span) -> Range {
        Range::new(
            self.position(span.start as usize),
            self.position(span.end as usize),
        )
    }

    /// The protocol range of byte offsets `start..end`.
    pub fn range_of(&self, start: usize, end: usize) -> Range {
        Range::new(self.position(start), self.position(end.max(start)))
    }

    /// The byte offset of a protocol position: a column past the end of its
    /// line is the line's end, a line past the last is the end of the text,
    /// a column inside a surrogate pair is the start of that character.
    pub fn offset(&self, position: Position) -> usize {
        let Some(start) = self.lines.line_start(position.line as usize) else {
            return self.text.len();
        };
        let line = self.text.get(start..).unwrap_or("");
        let line = line.split('\n').next().unwrap_or("");
        let wanted = position.character as usize;
        let mut units = 0;
        for (at, character) in line.char_indices() {
            if character == '\r' && line.len() == at + 1 {
                return start + at;
            }
            let next = units + character.len_utf16();
            if next > wanted {
                return start + at;
            }
            units = next;
        }
        start + line.len()
    }

    /// The range covering the whole text.
    pub fn whole(&self) -> Range {
        Range::new(Position::new(0, 0), self.position(self.text.len()))
    }
}

fn saturate(value: usize) -> u32 {
    u32::try_from(value).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_count_utf16_units() {
        // `é` is 2 bytes and 1 unit; `𝄞` is 4 bytes and 2 units.
        let text = Text::new("ab\né𝄞x\n");
        assert_eq!(text.position(0), Position::new(0, 0));
        assert_eq!(text.position(3), Position::new(1, 0));
        assert_eq!(text.position(5), Position::new(1, 1));
        assert_eq!(text.position(9), Position::new(1, 3));
        assert_eq!(text.offset(Position::new(1, 3)), 9);
        assert_eq!(text.offset(Position::new(1, 1)), 5);
    }

    #[test]
    fn out_of_range_positions_are_clamped() {
        let text = Text::new("é𝄞\r\nz");
        // Inside the surrogate pair: the start of the character.
        assert_eq!(text.offset(Position::new(0, 2)), 2);
        // Past the end of the line: before its `\r`.
        assert_eq!(text.offset(Position::new(0, 99)), 6);
        assert_eq!(text.offset(Position::new(9, 0)), 9);
        // Inside a multi-byte character: its start.
        assert_eq!(text.position(1), Position::new(0, 0));
        assert_eq!(text.position(999), Position::new(1, 1));
    }
}
