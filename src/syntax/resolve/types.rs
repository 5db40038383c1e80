//! The type of an expression ([`Type`]), how it is said in diagnostics, and
//! which types fit where.

use crate::syntax::ast::ParamType;

/// The type of an expression.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Type {
    /// `true`/`false`, conditions.
    Bool,
    /// A non-negative integer.
    Number,
    /// Text.
    String,
    /// A length of time.
    Duration,
    /// A product version.
    Version,
    /// A replication state code.
    State,
    /// One server of the cluster.
    Server,
    /// A list whose elements have this type.
    List(Box<Type>),
    /// Unknown after an error (fits anywhere, so one mistake is reported once).
    Unknown,
}

impl Type {
    /// `[server]`
    pub fn server_list() -> Type {
        Type::List(Box::new(Type::Server))
    }

    /// The type a parameter declared with `ty` has.
    pub fn of_param(ty: ParamType) -> Type {
        match ty {
            ParamType::String => Type::String,
            ParamType::Number => Type::Number,
            ParamType::Bool => Type::Bool,
            ParamType::Duration => Type::Duration,
            ParamType::Version => Type::Version,
            ParamType::Server => Type::Server,
            ParamType::ServerList => Type::server_list(),
        }
    }

    /// Whether a value of this type can be used where `expected` is required.
    pub fn fits(&self, expected: &Type) -> bool {
        match (self, expected) {
            (Type::Unknown, _) | (_, Type::Unknown) => true,
            (Type::List(found), Type::List(expected)) => found.fits(expected),
            (found, expected) => found == expected,
        }
    }

    /// The type in words, with an article: "a server", "a list of servers".
    pub fn describe(&self) -> String {
        match self {
            Type::Bool => "a bool".into(),
            Type::Number => "a number".into(),
            Type::String => "a string".into(),
            Type::Duration => "a duration".into(),
            Type::Version => "a version".into(),
            Type::State => "a replication state".into(),
            Type::Server => "a server".into(),
            Type::List(element) => match element.as_ref() {
                Type::Unknown => "a list".into(),
                Type::Server => "a list of servers".into(),
                other => format!("a list of {}", plural(other)),
            },
            Type::Unknown => "a value of unknown type".into(),
        }
    }

    pub(super) fn is_list(&self) -> bool {
        matches!(self, Type::List(_) | Type::Unknown)
    }

    pub(super) fn element(&self) -> Type {
        match self {
            Type::List(element) => (**element).clone(),
            _ => Type::Unknown,
        }
    }
}

fn plural(ty: &Type) -> String {
    match ty {
        Type::Bool => "bools".into(),
        Type::Number => "numbers".into(),
        Type::String => "strings".into(),
        Type::Duration => "durations".into(),
        Type::Version => "versions".into(),
        Type::State => "replication states".into(),
        Type::Server => "servers".into(),
        Type::List(_) => "lists".into(),
        Type::Unknown => "values".into(),
    }
}
