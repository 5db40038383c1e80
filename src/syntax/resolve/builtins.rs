//! The language's built-in tables: the operations with their named
//! arguments, the functions of the expression language, and the fields of
//! a server value.

use super::types::Type;
use crate::syntax::ast::ParamType;

/// One named argument of an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OperationParam {
    /// The argument's name.
    pub name: &'static str,
    /// Its type.
    pub ty: ParamType,
    /// Whether it may be left out (its default is documented on the operation).
    pub optional: bool,
}

/// An operation of the language (the table of `domain.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OperationSignature {
    /// The name written in runbooks, e.g. `init-standby`.
    pub name: &'static str,
    /// Its named arguments.
    pub params: &'static [OperationParam],
    /// What it does, in one line.
    pub doc: &'static str,
}

const SERVER: OperationParam = OperationParam {
    name: "server",
    ty: ParamType::Server,
    optional: false,
};

/// Every operation, in the order of `domain.md`.
pub const OPERATIONS: &[OperationSignature] = &[
    OperationSignature {
        name: "diagnostic",
        params: &[SERVER],
        doc: "runs the HA diagnostic on the server; fails on KO",
    },
    OperationSignature {
        name: "replication-states",
        params: &[SERVER],
        doc: "reads the state code of every server (issued on the Active)",
    },
    OperationSignature {
        name: "exclude",
        params: &[SERVER],
        doc: "excludes a Standby from replication (issued on the Active)",
    },
    OperationSignature {
        name: "init-standby",
        params: &[SERVER],
        doc: "full replication of a Standby; waits for STB_REP",
    },
    OperationSignature {
        name: "activate",
        params: &[SERVER],
        doc: "switch wizard: makes the Standby Active",
    },
    OperationSignature {
        name: "force-activate",
        params: &[SERVER],
        doc: "declares the server Active without the wizard",
    },
    OperationSignature {
        name: "set-standby",
        params: &[
            SERVER,
            OperationParam {
                name: "force",
                ty: ParamType::Bool,
                optional: true,
            },
        ],
        doc: "declares the server Standby (`force` defaults to false)",
    },
    OperationSignature {
        name: "stop-replication",
        params: &[SERVER],
        doc: "clears the replication configuration on the server",
    },
    OperationSignature {
        name: "stop-server",
        params: &[SERVER],
        doc: "stops the server (console)",
    },
    OperationSignature {
        name: "start-server",
        params: &[SERVER],
        doc: "starts the server (console)",
    },
    OperationSignature {
        name: "upgrade",
        params: &[
            SERVER,
            OperationParam {
                name: "version",
                ty: ParamType::Version,
                optional: false,
            },
        ],
        doc: "runs the SMC installer (console)",
    },
    OperationSignature {
        name: "backup",
        params: &[SERVER],
        doc: "takes a Management Server backup (console)",
    },
    OperationSignature {
        name: "restore-backup",
        params: &[SERVER],
        doc: "restores the latest backup on the server; every Standby is excluded",
    },
];

/// The operation called `name`.
pub fn operation(name: &str) -> Option<&'static OperationSignature> {
    OPERATIONS.iter().find(|operation| operation.name == name)
}

/// A built-in function of the expression language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FunctionSignature {
    /// Its name.
    pub name: &'static str,
    /// How it is written, e.g. `count(LIST)`.
    pub signature: &'static str,
    /// What it returns.
    pub doc: &'static str,
}

/// Every built-in function.
pub const FUNCTIONS: &[FunctionSignature] = &[
    FunctionSignature { name: "active", signature: "active() -> server", doc: "the one Active server (the run fails if there is not exactly one)" },
    FunctionSignature { name: "actives", signature: "actives() -> [server]", doc: "every running Active server" },
    FunctionSignature { name: "standbys", signature: "standbys() -> [server]", doc: "every Standby server" },
    FunctionSignature { name: "servers", signature: "servers() -> [server]", doc: "every server" },
    FunctionSignature { name: "count", signature: "count(LIST) -> number", doc: "the number of elements of a list" },
    FunctionSignature { name: "healthy", signature: "healthy() -> bool", doc: "the healthy setup: one Active in ACT_REP, every Standby running, not excluded, STB_REP, one version" },
    FunctionSignature { name: "replication_ok", signature: "replication_ok() -> bool", doc: "every running server in ACT_REP or STB_REP" },
    FunctionSignature { name: "changes_since", signature: "changes_since(SERVER, STEP_ID) -> number", doc: "administrator changes on the server since the step last started in this run" },
    FunctionSignature { name: "split_brain", signature: "split_brain() -> [server]", doc: "the servers that were Active when the product last detected two Actives and set every server Standby (empty when it did not)" },
];

/// The fields of a server value: name and type.
pub const SERVER_FIELDS: &[(&str, ParamType)] = &[
    ("name", ParamType::String),
    ("running", ParamType::Bool),
    ("excluded", ParamType::Bool),
    ("is_active", ParamType::Bool),
    ("is_standby", ParamType::Bool),
    ("version", ParamType::Version),
    ("changes", ParamType::Number),
];

pub(super) fn field_type(name: &str) -> Option<Type> {
    if name == "state" {
        return Some(Type::State);
    }
    SERVER_FIELDS
        .iter()
        .find(|(field, _)| *field == name)
        .map(|(_, ty)| Type::of_param(*ty))
}
