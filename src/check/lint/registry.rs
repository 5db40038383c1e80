//! The one table of every lint rule, and lookups by code or name.

use super::rule::Rule;
use super::rules;

/// Every rule, by code.
pub static RULES: &[&Rule] = &[
    &rules::unreachable_statement::RULE,
    &rules::unused_parameter::RULE,
    &rules::wait_without_timeout::RULE,
    &rules::empty_prompt_text::RULE,
    &rules::duplicate_step_title::RULE,
    &rules::shadowed_binding::RULE,
    &rules::unreachable_what_if::RULE,
    &rules::choose_without_default::RULE,
    &rules::unused_binding::RULE,
    &rules::unused_suppression::RULE,
    &rules::unused_loop_variable::RULE,
    &rules::active_upgraded_while_standbys_replicate::RULE,
    &rules::standby_initialized_without_exclusion::RULE,
    &rules::force_activation_without_demotion::RULE,
    &rules::active_server_excluded::RULE,
    &rules::active_upgrade_without_what_if::RULE,
    &rules::changes_discarded_without_warning::RULE,
    &rules::urgent_step_without_time_window::RULE,
];

/// The rule with this code (`RB003`, any case) or name (`wait-without-timeout`).
pub fn rule(code_or_name: &str) -> Option<&'static Rule> {
    RULES
        .iter()
        .copied()
        .find(|rule| rule.code.eq_ignore_ascii_case(code_or_name) || rule.name == code_or_name)
}

/// A help line for an unknown code: the closest known one, or where to look.
pub fn suggestion_help(unknown: &str) -> String {
    let closest = RULES
        .iter()
        .map(|rule| {
            let by_code = strsim::levenshtein(&unknown.to_ascii_uppercase(), rule.code);
            let by_name = strsim::levenshtein(unknown, rule.name);
            (by_code.min(by_name), rule)
        })
        .min_by_key(|(distance, _)| *distance);
    match closest {
        Some((distance, rule)) if distance <= 2 => format!(
            "did you mean `{}` ({})? `runbook explain --list` lists every rule.",
            rule.code, rule.name
        ),
        _ => "Use a rule code such as `RB003` or a rule name; `runbook explain --list` lists every rule."
            .to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn codes_and_names_are_unique_and_well_formed() {
        let mut codes = HashSet::new();
        let mut names = HashSet::new();
        for rule in RULES {
            assert!(codes.insert(rule.code), "duplicate code {}", rule.code);
            assert!(names.insert(rule.name), "duplicate name {}", rule.name);
            assert!(
                rule.code.starts_with("RB") && rule.code.len() == 5,
                "{}",
                rule.code
            );
            assert!(
                rule.name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c == '-'),
                "{}",
                rule.name
            );
            assert!(!rule.name.starts_with("no-"), "{}", rule.name);
        }
        assert!(RULES.len() >= 15);
        assert!(RULES.iter().filter(|rule| rule.domain).count() >= 6);
    }

    #[test]
    fn every_rule_documents_the_three_sections() {
        for rule in RULES {
            for heading in ["What it does", "Why is this bad?", "Example"] {
                let section = rule.section(heading).unwrap_or_default();
                assert!(!section.is_empty(), "{} lacks `## {heading}`", rule.code);
            }
            assert!(
                rule.section("Example")
                    .unwrap_or_default()
                    .contains("```runbook"),
                "{}: the example needs a runbook snippet",
                rule.code
            );
        }
    }

    #[test]
    fn lookups_accept_codes_and_names_and_suggest() {
        assert_eq!(rule("rb003").map(|rule| rule.code), Some("RB003"));
        assert_eq!(
            rule("wait-without-timeout").map(|rule| rule.code),
            Some("RB003")
        );
        assert!(rule("RB999").is_none());
        assert!(suggestion_help("RB00").contains("did you mean"));
    }
}
