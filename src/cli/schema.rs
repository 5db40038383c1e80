//! `runbook schema NAME`: the JSON Schema of a machine output, derived from
//! the serde type the output is written from (so it cannot drift from it).
//! `runbook schema` or `--list` lists the names. The same schemas are
//! committed under `docs/schemas/` (a test keeps them up to date).

use super::stdout::outln;
use crate::check::report::JsonFinding;
use crate::check::verify::VerifyJson;
use crate::interp::events::Event;
use crate::interp::journal::Record;
use crate::interp::plan::Plan;
use crate::schema::schema_of;
use crate::syntax::embedded::closest_name;

/// The code `runbook schema` reports an unknown name with.
pub const UNKNOWN_SCHEMA: &str = "runbook::schema::unknown_schema";

/// `runbook schema`.
#[derive(Debug, Clone, clap::Args)]
pub struct SchemaArgs {
    /// The output whose schema to print (`events`, `journal`, `check`,
    /// `plan`, `verify`, `list`, `probe`); none: list them.
    #[arg(add = super::completions::schemas())]
    pub name: Option<String>,
    /// List the schemas, one line each.
    #[arg(long, conflicts_with = "name")]
    pub list: bool,
}

/// One published schema: a machine output and the type it is written from.
#[derive(Debug, Clone, Copy)]
pub struct Published {
    /// The name `runbook schema NAME` takes, and the file's under `docs/schemas/`.
    pub name: &'static str,
    /// Which output, in one line.
    pub description: &'static str,
    /// Derives the schema, given the name and the description.
    derive: fn(&str, &str) -> serde_json::Value,
}

impl Published {
    /// The schema.
    pub fn schema(&self) -> serde_json::Value {
        (self.derive)(self.name, self.description)
    }

    /// The schema, as `runbook schema NAME` prints it and `docs/schemas/NAME.json` holds it.
    pub fn text(&self) -> String {
        let mut text = serde_json::to_string_pretty(&self.schema()).unwrap_or_default();
        text.push('\n');
        text
    }
}

/// Every machine output with a published schema.
pub const SCHEMAS: &[Published] = &[
    Published {
        name: "events",
        description: "one line of `run`/`resume --format json`: an event of the run (JSON Lines)",
        derive: schema_of::<Event>,
    },
    Published {
        name: "journal",
        description: "one line of a run's journal (`--journal FILE`, JSON Lines): a record",
        derive: schema_of::<Record>,
    },
    Published {
        name: "check",
        description: "`check --format json`: the array of findings",
        derive: schema_of::<Vec<JsonFinding>>,
    },
    Published {
        name: "plan",
        description: "`plan --format json`: what `run` would do from the target's current state",
        derive: schema_of::<Plan>,
    },
    Published {
        name: "verify",
        description: "`verify --format json`: proof or counterexamples, coverage, timing",
        derive: schema_of::<VerifyJson>,
    },
    Published {
        name: "list",
        description: "`list --format json`: the array of shipped runbooks",
        derive: schema_of::<Vec<super::list::ListedRunbook>>,
    },
    Published {
        name: "certificate",
        description: "`verify --certificate FILE`: a proof certificate and its approvals",
        derive: schema_of::<crate::proof::Certificate>,
    },
    Published {
        name: "probe",
        description: "`probe --format json`: what the connector reads from each server, and why",
        derive: schema_of::<super::probe::ProbeReport>,
    },
    Published {
        name: "fleet",
        description: "`fleet run`/`fleet resume --json`: how each cluster of the fleet ended",
        derive: schema_of::<crate::fleet::FleetReport>,
    },
];

/// The published schema called `name`.
pub fn published(name: &str) -> Option<&'static Published> {
    SCHEMAS.iter().find(|schema| schema.name == name)
}

/// What `runbook schema --list` prints: one line per schema.
pub fn listing() -> String {
    let width = SCHEMAS
        .iter()
        .map(|schema| schema.name.len())
        .max()
        .unwrap_or(0);
    let mut text = String::new();
    for schema in SCHEMAS {
        text.push_str(&format!(
            "{:<width$}  {}\n",
            schema.name, schema.description
        ));
    }
    text.push_str(&format!(
        "\nEvery document (every line of a stream) carries `schema_version` ({}).\n",
        crate::schema::SCHEMA_VERSION
    ));
    text
}

/// The help line of an unknown schema name: the closest name, or them all.
pub fn suggestion(name: &str) -> String {
    match closest_name(name, SCHEMAS.iter().map(|schema| schema.name)) {
        Some(candidate) => {
            format!("did you mean `{candidate}`? `runbook schema --list` lists the schemas")
        }
        None => format!(
            "the schemas are {} (`runbook schema --list`)",
            SCHEMAS
                .iter()
                .map(|schema| format!("`{}`", schema.name))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// Runs `runbook schema`; returns the exit code.
pub fn schema(args: SchemaArgs) -> i32 {
    let Some(name) = args.name.filter(|_| !args.list) else {
        super::stdout::out!("{}", listing());
        return 0;
    };
    match published(&name) {
        Some(schema) => {
            outln!("{}", schema.text().trim_end());
            0
        }
        None => {
            eprintln!(
                "{:?}",
                miette::miette!(
                    code = UNKNOWN_SCHEMA,
                    help = suggestion(&name),
                    "unknown schema `{name}`"
                )
            );
            2
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_name_gets_the_closest() {
        assert!(suggestion("event").starts_with("did you mean `events`?"));
        assert!(suggestion("jurnal").starts_with("did you mean `journal`?"));
        assert!(suggestion("openapi").starts_with("the schemas are `events`"));
    }

    #[test]
    fn every_schema_is_an_object_with_its_id() {
        for published in SCHEMAS {
            let schema = published.schema();
            assert_eq!(
                schema["$id"],
                format!("{}{}.json", crate::schema::SCHEMA_ID_BASE, published.name)
            );
            assert_eq!(schema["description"], published.description);
        }
    }
}
