//! The API key as a value that cannot leak by accident: its `Debug` and
//! `Display` never show it, and it is only handed out where it is sent.

use std::fmt;

/// An SMC API key. Printing it (with `{}` or `{:?}`) shows `<redacted>`.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    /// Wraps a key read from the environment or a file (surrounding
    /// whitespace, such as a file's final newline, is removed).
    pub fn new(key: impl Into<String>) -> Self {
        ApiKey(key.into().trim().to_owned())
    }

    /// A fresh random key (for `runbook sim serve` when none is given).
    pub fn generate() -> Self {
        ApiKey(uuid::Uuid::new_v4().simple().to_string())
    }

    /// The key itself, for the one place that sends or compares it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether the key is empty (an empty key is never accepted).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Compares with a presented key without short-circuiting on the first
    /// differing byte.
    pub fn matches(&self, presented: &str) -> bool {
        let ours = self.0.as_bytes();
        let theirs = presented.as_bytes();
        if ours.len() != theirs.len() || ours.is_empty() {
            return false;
        }
        ours.iter()
            .zip(theirs)
            .fold(0u8, |difference, (a, b)| difference | (a ^ b))
            == 0
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(<redacted>)")
    }
}

impl fmt::Display for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_formats_the_key() {
        let key = ApiKey::new("s3cret-value\n");
        assert_eq!(key.expose(), "s3cret-value");
        assert!(!format!("{key:?} {key}").contains("s3cret"));
        assert!(key.matches("s3cret-value"));
        assert!(!key.matches("s3cret-valuX"));
        assert!(!ApiKey::new("").matches(""));
    }
}
