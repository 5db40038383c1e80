//! The published answers of a Management Server's API, read field by field.
//! Each reader takes the URL it came from and the JSON body, and returns the
//! typed value or a `runbook::connector::malformed_response` naming the
//! entry point, the field and what was expected. Only fields a real server
//! sends are read (see `docs/smc-api-facts.md`, which gives the public source
//! of each).

use std::collections::HashMap;

use serde_json::Value;

use crate::cluster::{OperationOutput, ReplicationState, Version};
use crate::connect::ConnectorError;

/// A malformed-answer error.
pub(crate) fn malformed(url: &str, reason: impl Into<String>) -> ConnectorError {
    ConnectorError::Malformed {
        url: url.to_owned(),
        reason: reason.into(),
    }
}

/// What a JSON value is, in messages (`a number`, `null`...).
fn kind(value: Option<&Value>) -> &'static str {
    match value {
        None => "nothing (the field is absent)",
        Some(Value::Null) => "null",
        Some(Value::Bool(_)) => "a boolean",
        Some(Value::Number(_)) => "a number",
        Some(Value::String(_)) => "a string",
        Some(Value::Array(_)) => "a list",
        Some(Value::Object(_)) => "an object",
    }
}

/// The string field `field` of `body`.
fn string<'b>(
    url: &str,
    body: &'b Value,
    field: &str,
    expected: &str,
) -> Result<&'b str, ConnectorError> {
    body.get(field).and_then(Value::as_str).ok_or_else(|| {
        malformed(
            url,
            format!(
                "field `{field}`: expected {expected}, found {}",
                kind(body.get(field))
            ),
        )
    })
}

/// `rel → href` of a list of `{"rel", "href"}` entries.
fn rel_list(
    url: &str,
    body: &Value,
    field: &str,
) -> Result<HashMap<String, String>, ConnectorError> {
    let entries = body.get(field).and_then(Value::as_array).ok_or_else(|| {
        malformed(
            url,
            format!(
                "field `{field}`: expected a list of {{\"rel\", \"href\"}}, found {}",
                kind(body.get(field))
            ),
        )
    })?;
    Ok(entries
        .iter()
        .filter_map(|entry| {
            Some((
                entry.get("rel")?.as_str()?.to_owned(),
                entry.get("href")?.as_str()?.to_owned(),
            ))
        })
        .collect())
}

/// `GET /api`: the API versions the server offers (`version[].rel`).
pub(crate) fn offered_api_versions(url: &str, body: &Value) -> Result<Vec<String>, ConnectorError> {
    let mut versions: Vec<String> = rel_list(url, body, "version")?.into_keys().collect();
    versions.sort_by_key(|rel| rel.parse::<Version>().ok());
    Ok(versions)
}

/// `GET /{version}/api`: the entry points by `rel`.
pub(crate) fn entry_points(
    url: &str,
    body: &Value,
) -> Result<HashMap<String, String>, ConnectorError> {
    rel_list(url, body, "entry_point")
}

/// The href of the link `rel` in an element's `link` list.
pub(crate) fn link(url: &str, body: &Value, rel: &str) -> Result<String, ConnectorError> {
    rel_list(url, body, "link")?.remove(rel).ok_or_else(|| {
        malformed(
            url,
            format!("field `link`: expected a link with \"rel\": \"{rel}\""),
        )
    })
}

/// `system` → `smc_version`: `{"value": "7.3.4 [...]"}`; the version is
/// the first word (as the official client reads it).
pub(crate) fn smc_version(url: &str, body: &Value) -> Result<Version, ConnectorError> {
    let text = string(url, body, "value", "the SMC version, e.g. \"7.3.4 [...]\"")?;
    text.split_whitespace()
        .next()
        .and_then(|word| {
            let parts: Option<Vec<u32>> = word
                .split('.')
                .take(3)
                .map(|part| part.parse().ok())
                .collect();
            parts.filter(|parts| !parts.is_empty())
        })
        .map(Version::from_parts)
        .ok_or_else(|| {
            malformed(
                url,
                format!(
                    "field `value`: expected an SMC version like \"7.3.4 [...]\", found \"{text}\""
                ),
            )
        })
}

/// The element key an href ends with (`.../elements/mgt_server/1296` → `1296`).
pub(crate) fn element_key(href: &str) -> &str {
    href.trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or(href)
}

/// `GET /ha`: which servers the connected server knows, as element hrefs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HaInfo {
    /// The Active it knows; absent when no server is Active.
    pub active: Option<String>,
    /// The server that answered.
    pub connected: String,
    /// The Standby servers it knows.
    pub standbys: Vec<String>,
}

/// Reads `GET /ha`.
pub(crate) fn ha(url: &str, body: &Value) -> Result<HaInfo, ConnectorError> {
    let active = match body.get("active_server") {
        None | Some(Value::Null) => None,
        Some(Value::String(href)) => Some(href.clone()),
        Some(other) => {
            return Err(malformed(
                url,
                format!(
                    "field `active_server`: expected an element href or nothing, found {}",
                    kind(Some(other))
                ),
            ))
        }
    };
    let connected = string(url, body, "connected_server", "an element href")?.to_owned();
    let standbys = match body.get("standby_servers") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(entries)) => entries
            .iter()
            .map(|entry| {
                entry.as_str().map(str::to_owned).ok_or_else(|| {
                    malformed(
                        url,
                        format!(
                            "field `standby_servers`: expected a list of element hrefs, found {} in it",
                            kind(Some(entry))
                        ),
                    )
                })
            })
            .collect::<Result<_, _>>()?,
        Some(other) => {
            return Err(malformed(
                url,
                format!(
                    "field `standby_servers`: expected a list of element hrefs, found {}",
                    kind(Some(other))
                ),
            ))
        }
    };
    Ok(HaInfo {
        active,
        connected,
        standbys,
    })
}

/// An element's `name`.
pub(crate) fn element_name(url: &str, body: &Value) -> Result<String, ConnectorError> {
    Ok(string(url, body, "name", "the element's name")?.to_owned())
}

/// A replication state as the API writes it, `"[CODE] text"`.
fn state(
    url: &str,
    field: &str,
    value: Option<&Value>,
) -> Result<ReplicationState, ConnectorError> {
    let text = value.and_then(Value::as_str).ok_or_else(|| {
        malformed(
            url,
            format!(
                "field `{field}`: expected a replication state like \"[ACT_REP] ...\", found {}",
                kind(value)
            ),
        )
    })?;
    ReplicationState::from_reported(text).ok_or_else(|| {
        malformed(
            url,
            format!("field `{field}`: \"{text}\" names no known replication state code"),
        )
    })
}

/// `GET /ha/database_replication_diagnostic`: the connected server's own
/// name and replication state.
pub(crate) fn own_replication(
    url: &str,
    body: &Value,
) -> Result<(String, ReplicationState), ConnectorError> {
    let name = string(url, body, "server_name", "the connected server's name")?.to_owned();
    Ok((name, state(url, "state", body.get("state"))?))
}

/// `GET /ha/all_servers_replication_states` (on the Active): the Active's
/// state, and each Standby's by name.
pub(crate) fn all_replication_states(
    url: &str,
    body: &Value,
) -> Result<(ReplicationState, Vec<(String, ReplicationState)>), ConnectorError> {
    let active = state(url, "active_server_state", body.get("active_server_state"))?;
    let entries = match body.get("standby_server_states") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(entries)) => entries.clone(),
        Some(other) => {
            return Err(malformed(
                url,
                format!(
                    "field `standby_server_states`: expected a list of {{\"server_name\", \"state\"}}, found {}",
                    kind(Some(other))
                ),
            ))
        }
    };
    let standbys = entries
        .iter()
        .map(|entry| {
            let name = string(url, entry, "server_name", "a server name")
                .map_err(|_| {
                    malformed(
                        url,
                        "field `standby_server_states[].server_name`: expected a server name",
                    )
                })?
                .to_owned();
            Ok((
                name,
                state(url, "standby_server_states[].state", entry.get("state"))?,
            ))
        })
        .collect::<Result<Vec<_>, ConnectorError>>()?;
    Ok((active, standbys))
}

/// `GET /ha/diagnostic`: the global status and every block's lines.
pub(crate) fn diagnostic(url: &str, body: &Value) -> Result<OperationOutput, ConnectorError> {
    let ok = match string(url, body, "status", "\"OK\" or \"KO\"")? {
        "OK" => true,
        "KO" => false,
        other => {
            return Err(malformed(
                url,
                format!("field `status`: expected \"OK\" or \"KO\", found \"{other}\""),
            ))
        }
    };
    let blocks = body
        .get("message")
        .and_then(Value::as_array)
        .ok_or_else(|| {
            malformed(
                url,
                format!(
                "field `message`: expected a list of {{\"title\", \"message\"}} blocks, found {}",
                kind(body.get("message"))
            ),
            )
        })?;
    let messages = blocks
        .iter()
        .filter_map(|block| {
            let title = block.get("title")?.as_str()?.to_owned();
            let lines = block
                .get("message")
                .and_then(Value::as_array)
                .map(|lines| {
                    lines
                        .iter()
                        .filter_map(|line| line.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default();
            Some((title, lines))
        })
        .collect();
    Ok(OperationOutput::Diagnostic { ok, messages })
}

/// An action's answer, `{"value": "..."}`.
pub(crate) fn action_value(url: &str, body: &Value) -> Result<String, ConnectorError> {
    Ok(string(url, body, "value", "the action's confirmation message")?.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn versions_are_read_from_the_first_word() {
        let version = smc_version("u", &json!({ "value": "7.3.4 [10342]" })).expect("version");
        assert_eq!(version.to_string(), "7.3.4");
        let long = smc_version("u", &json!({ "value": "7.4.1.12 build" })).expect("version");
        assert_eq!(long.to_string(), "7.4.1");
        let error = smc_version("u", &json!({ "value": 7 })).expect_err("not a string");
        assert!(error.to_string().contains("field `value`"), "{error}");
    }

    #[test]
    fn ha_without_an_active_is_read() {
        let info = ha(
            "u",
            &json!({ "connected_server": "h/mgt_server/10", "standby_servers": ["h/mgt_server/10", "h/mgt_server/11"] }),
        )
        .expect("ha");
        assert_eq!(info.active, None);
        assert_eq!(element_key(&info.standbys[1]), "11");
        let error = ha("u", &json!({ "connected_server": 3 })).expect_err("bad");
        assert!(
            error
                .to_string()
                .contains("`connected_server`: expected an element href"),
            "{error}"
        );
    }

    #[test]
    fn states_name_the_field_that_is_wrong() {
        let error = own_replication("u", &json!({ "server_name": "a", "state": "[NOPE] x" }))
            .expect_err("unknown code");
        assert!(error.to_string().contains("`state`"), "{error}");
        let (name, state) = own_replication(
            "u",
            &json!({ "server_name": "a", "state": "[LEGACY_MODE] Legacy replication" }),
        )
        .expect("legacy");
        assert_eq!((name.as_str(), state), ("a", ReplicationState::LegacyMode));
    }
}
