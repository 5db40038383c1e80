//! The shape version every machine output carries (`schema_version`), and
//! the JSON Schema of an output derived from its serde type. The schemas
//! are published by `runbook schema NAME` and under `docs/schemas/`; which
//! outputs there are is the CLI's table (`cli::schema`).

use std::borrow::Cow;

use schemars::generate::SchemaSettings;
use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The version of the shape of every machine output: the `run` event
/// stream, the journal, `check`, `plan`, `verify`, `list` and `probe` JSON.
/// It changes when a field is removed or renamed or changes its meaning;
/// new optional fields do not change it.
pub const SCHEMA_VERSION: u32 = 1;

/// The base of every published schema's `$id`: the committed copies under
/// `docs/schemas/`.
pub const SCHEMA_ID_BASE: &str = "https://github.com/runbook-dev/runbook/blob/main/docs/schemas/";

/// The `schema_version` field of a machine output: always
/// [`SCHEMA_VERSION`] when written; what a document read back says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SchemaVersion(pub u32);

impl SchemaVersion {
    /// The version this build writes.
    pub const CURRENT: SchemaVersion = SchemaVersion(SCHEMA_VERSION);

    /// What a document without the field (written before versions) is:
    /// the shape of version 1.
    pub const UNVERSIONED: SchemaVersion = SchemaVersion(1);
}

impl Default for SchemaVersion {
    /// A document read back without the field: [`SchemaVersion::UNVERSIONED`].
    fn default() -> Self {
        Self::UNVERSIONED
    }
}

impl Serialize for SchemaVersion {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u32(self.0)
    }
}

impl<'de> Deserialize<'de> for SchemaVersion {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        u32::deserialize(deserializer).map(SchemaVersion)
    }
}

impl JsonSchema for SchemaVersion {
    fn schema_name() -> Cow<'static, str> {
        "SchemaVersion".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "The version of this output's shape (`runbook schema --list`); \
                it changes when a field is removed, renamed or changes its meaning.",
            "type": "integer",
            "const": SCHEMA_VERSION,
        })
    }
}

/// The published JSON Schema (draft 2020-12) of `T`, with its `$id`
/// (`SCHEMA_ID_BASE` + `name`.json), a title and a description.
pub fn schema_of<T: JsonSchema>(name: &str, description: &str) -> serde_json::Value {
    // What is written: a field is optional only where it is left out when
    // empty (`skip_serializing_if`), whatever reading back would accept.
    let mut schema = SchemaSettings::draft2020_12()
        .for_serialize()
        .into_generator()
        .into_root_schema_for::<T>();
    schema.insert(
        String::from("$id"),
        format!("{SCHEMA_ID_BASE}{name}.json").into(),
    );
    schema.insert(String::from("title"), format!("runbook {name}").into());
    schema.insert(String::from("description"), description.into());
    schema.to_value()
}
