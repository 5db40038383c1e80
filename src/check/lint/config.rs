//! The project configuration `runbook.toml`, found by walking up from a
//! checked path. Its `[lint]` table sets rule severities:
//!
//! ```toml
//! [lint]
//! severity = { RB003 = "error", RB010 = "off" }
//! ```
//!
//! Keys are rule codes or rule names; values are `"error"`, `"warning"`,
//! `"info"` or `"off"`. `enabled = false` in `[lint]` switches the linter off
//! for the files under that directory (parse and resolution errors are
//! still reported), e.g. for parser fixtures. Unknown codes and bad values are diagnostics of their
//! own, located in the TOML file.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use miette::SourceSpan;
use serde::Deserialize;
use toml::Spanned;

use super::registry;
use super::severity::{Level, Severity};

/// The name of the project configuration file.
pub const CONFIG_FILE_NAME: &str = "runbook.toml";

/// A problem in `runbook.toml`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigProblem {
    /// `runbook::config::unknown_code`, `runbook::config::invalid_level` or
    /// `runbook::config::syntax`.
    pub code: &'static str,
    /// What is wrong.
    pub message: String,
    /// Where in the TOML file.
    pub span: SourceSpan,
    /// What to do about it.
    pub help: String,
    /// Unknown codes are warnings (the rest of the file still applies);
    /// unreadable files and bad levels are errors.
    pub severity: Severity,
}

/// The lint configuration: the level of each rule that differs from its default.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LintConfig {
    levels: HashMap<&'static str, Level>,
    disabled: bool,
}

/// A loaded `runbook.toml`: where it is, its text, the configuration it sets
/// and the problems found in it.
#[derive(Debug, Clone)]
pub struct LoadedConfig {
    /// The file's path.
    pub path: PathBuf,
    /// The file's text (for rendering problems).
    pub source: String,
    /// The configuration, with the valid entries applied.
    pub config: LintConfig,
    /// The problems found.
    pub problems: Vec<ConfigProblem>,
}

#[derive(Deserialize)]
struct ConfigFile {
    #[serde(default)]
    lint: Option<LintTable>,
}

#[derive(Deserialize)]
struct LintTable {
    #[serde(default)]
    enabled: Option<bool>,
    #[serde(default)]
    severity: BTreeMap<Spanned<String>, Spanned<String>>,
}

impl LintConfig {
    /// The level a rule runs at.
    pub fn level(&self, code: &str) -> Level {
        if self.disabled {
            return Level::Off;
        }
        match self.levels.get(code) {
            Some(level) => *level,
            None => registry::rule(code)
                .map(|rule| Level::On(rule.default_severity))
                .unwrap_or(Level::Off),
        }
    }

    /// Sets the level of a rule by code (used by tests and the CLI).
    pub fn set_level(&mut self, code: &'static str, level: Level) {
        self.levels.insert(code, level);
    }

    /// Parses the text of a `runbook.toml`; never fails, problems are collected.
    pub fn parse(source: &str) -> (LintConfig, Vec<ConfigProblem>) {
        let mut config = LintConfig::default();
        let mut problems = Vec::new();
        let file: ConfigFile = match toml::from_str(source) {
            Ok(file) => file,
            Err(error) => {
                let span = error
                    .span()
                    .map(|range| SourceSpan::from(range.start..range.end))
                    .unwrap_or_else(|| SourceSpan::from(0..0));
                problems.push(ConfigProblem {
                    code: "runbook::config::syntax",
                    message: format!("`{CONFIG_FILE_NAME}` is not valid: {}", error.message()),
                    span,
                    help:
                        "Write the lint table as `[lint]` with `severity = { RB003 = \"error\" }`."
                            .to_owned(),
                    severity: Severity::Error,
                });
                return (config, problems);
            }
        };
        let Some(lint) = file.lint else {
            return (config, problems);
        };
        config.disabled = lint.enabled == Some(false);
        for (key, value) in lint.severity {
            let key_span = SourceSpan::from(key.span());
            let Some(rule) = registry::rule(key.get_ref()) else {
                problems.push(ConfigProblem {
                    code: "runbook::config::unknown_code",
                    message: format!("unknown lint rule `{}`", key.get_ref()),
                    span: key_span,
                    help: registry::suggestion_help(key.get_ref()),
                    severity: Severity::Warning,
                });
                continue;
            };
            match value.get_ref().parse::<Level>() {
                Ok(level) => {
                    config.levels.insert(rule.code, level);
                }
                Err(message) => problems.push(ConfigProblem {
                    code: "runbook::config::invalid_level",
                    message,
                    span: SourceSpan::from(value.span()),
                    help: "Use \"error\", \"warning\", \"info\" or \"off\".".to_owned(),
                    severity: Severity::Error,
                }),
            }
        }
        problems.sort_by_key(|problem| problem.span.offset());
        (config, problems)
    }
}

/// Finds the `runbook.toml` that applies to `path`: in its directory (or the
/// directory itself) or the nearest ancestor.
pub fn find_config(path: &Path) -> Option<PathBuf> {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let start = if absolute.is_dir() {
        absolute.as_path()
    } else {
        absolute.parent()?
    };
    start
        .ancestors()
        .map(|directory| directory.join(CONFIG_FILE_NAME))
        .find(|candidate| candidate.is_file())
}

/// Loads the configuration that applies to `path`, if there is one.
pub fn load_for(path: &Path) -> std::io::Result<Option<LoadedConfig>> {
    let Some(config_path) = find_config(path) else {
        return Ok(None);
    };
    let source = std::fs::read_to_string(&config_path)?;
    let (config, problems) = LintConfig::parse(&source);
    // Shown relative to the working directory when it is below it, like the
    // runbooks `runbook check` walks.
    let shown = std::env::current_dir()
        .ok()
        .and_then(|directory| {
            config_path
                .strip_prefix(directory)
                .ok()
                .map(Path::to_path_buf)
        })
        .unwrap_or(config_path);
    Ok(Some(LoadedConfig {
        path: shown,
        source,
        config,
        problems,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_codes_and_bad_levels_are_located() {
        let source =
            "[lint]\nseverity = { RB003 = \"error\", RB999 = \"off\", RB001 = \"loud\" }\n";
        let (config, problems) = LintConfig::parse(source);
        assert_eq!(config.level("RB003"), Level::On(Severity::Error));
        assert_eq!(problems.len(), 2);
        let unknown = &problems[0];
        assert_eq!(unknown.code, "runbook::config::unknown_code");
        assert_eq!(
            &source[unknown.span.offset()..unknown.span.offset() + unknown.span.len()],
            "RB999"
        );
        let invalid = &problems[1];
        assert_eq!(invalid.code, "runbook::config::invalid_level");
        assert_eq!(
            &source[invalid.span.offset()..invalid.span.offset() + invalid.span.len()],
            "\"loud\""
        );
    }

    #[test]
    fn rule_names_are_accepted_as_keys() {
        let source = "[lint.severity]\nwait-without-timeout = \"off\"\n";
        let (config, problems) = LintConfig::parse(source);
        assert!(problems.is_empty(), "{problems:?}");
        let rule = registry::rule("wait-without-timeout").map(|rule| rule.code);
        assert_eq!(rule.map(|code| config.level(code)), Some(Level::Off));
    }

    #[test]
    fn the_linter_can_be_switched_off() {
        let (config, problems) = LintConfig::parse("[lint]\nenabled = false\n");
        assert!(problems.is_empty());
        assert_eq!(config.level("RB004"), Level::Off);
    }

    #[test]
    fn broken_toml_is_a_problem_not_a_panic() {
        let (_, problems) = LintConfig::parse("[lint\nseverity = 3");
        assert_eq!(problems[0].code, "runbook::config::syntax");
    }
}
