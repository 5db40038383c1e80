//! Formatting: the document in `runbook fmt`'s canonical layout
//! ([`crate::fmt`]), as one edit replacing the whole text. A document with
//! syntax errors is never reformatted (no edit), as `runbook fmt` refuses it.

use lsp_types::TextEdit;

use super::position::Text;

/// The edits that format `text` (none when it is formatted already or does
/// not parse).
pub fn formatting(text: &Text<'_>) -> Vec<TextEdit> {
    match crate::fmt::format_source(text.as_str()) {
        Ok(formatted) if formatted != text.as_str() => vec![TextEdit {
            range: text.whole(),
            new_text: formatted,
        }],
        Ok(_) | Err(_) => Vec::new(),
    }
}
