//! Expressions: [`Checker::expr`] gives the type of an expression and
//! reports what does not fit, with one method per kind of expression that
//! has rules of its own (lists, variables, fields, `not`, quantifiers,
//! `select`, function calls) and per group of binary operators
//! (connectives, equality, ordering, `in`, `without`).

use std::collections::HashMap;

use super::builtins::{field_type, FUNCTIONS, SERVER_FIELDS};
use super::checker::Checker;
use super::suggest::{closest, list_names};
use super::types::Type;
use crate::syntax::ast::{self, BinaryOp, ExprKind, Quantifier};
use crate::syntax::error::ResolveError;

impl Checker<'_> {
    /// The type of an expression; reports what does not fit.
    pub(super) fn expr(&mut self, expr: &ast::Expr) -> Type {
        match &expr.kind {
            ExprKind::Bool(_) => Type::Bool,
            ExprKind::Number(_) => Type::Number,
            ExprKind::String(_) => Type::String,
            ExprKind::Duration(_) => Type::Duration,
            ExprKind::Version(_) => Type::Version,
            ExprKind::State(_) => Type::State,
            ExprKind::List(items) => self.list(items),
            ExprKind::Var(name) => self.var(name),
            ExprKind::Field { target, field } => self.field(target, field),
            ExprKind::Call { function, args } => self.function(expr, function, args),
            ExprKind::Not(operand) => {
                let found = self.expr(operand);
                self.expect(operand, &found, &Type::Bool, "`not` applies to a condition");
                Type::Bool
            }
            ExprKind::Binary { op, lhs, rhs, .. } => self.binary(*op, lhs, rhs),
            ExprKind::Quantifier {
                quantifier,
                var,
                list,
                body,
            } => self.quantifier(*quantifier, var, list, body),
            ExprKind::Select { id, from, .. } => {
                self.prompt(id);
                let found = self.expr(from);
                self.expect(
                    from,
                    &found,
                    &Type::server_list(),
                    "`select` picks a server from a list of servers",
                );
                Type::Server
            }
        }
    }

    /// `[A, B, ...]`: the elements have the type of the first one.
    fn list(&mut self, items: &[ast::Expr]) -> Type {
        let mut element = Type::Unknown;
        for item in items {
            let found = self.expr(item);
            if element == Type::Unknown {
                element = found;
            } else {
                let expected = element.clone();
                self.expect(
                    item,
                    &found,
                    &expected,
                    "the elements of a list have one type",
                );
            }
        }
        Type::List(Box::new(element))
    }

    /// A variable: the type it is bound to.
    fn var(&mut self, name: &ast::Ident) -> Type {
        match self.lookup(&name.name) {
            Some(binding) => binding.ty.clone(),
            None => {
                self.undefined_variable(name);
                Type::Unknown
            }
        }
    }

    fn undefined_variable(&mut self, name: &ast::Ident) {
        let known: Vec<String> = self
            .scopes
            .iter()
            .flat_map(|scope| scope.keys().cloned())
            .collect();
        let help = if FUNCTIONS.iter().any(|function| function.name == name.name) {
            format!("`{0}` is a function: write `{0}()`", name.name)
        } else if let Some(similar) = closest(&name.name, known.iter().map(String::as_str)) {
            format!("did you mean `{similar}`?")
        } else {
            format!(
                "bind it with `let {0} = ...` or declare it with `param {0}: TYPE`",
                name.name
            )
        };
        self.errors.push(ResolveError::UndefinedVariable {
            span: name.span,
            name: name.name.clone(),
            help,
        });
    }

    /// The type of an expression; reports what does not fit.
    /// `TARGET.FIELD`: TARGET is a server, FIELD one of its fields.
    fn field(&mut self, target: &ast::Expr, field: &ast::Ident) -> Type {
        let owner = self.expr(target);
        if !owner.fits(&Type::Server) {
            let help = if owner.is_list() {
                "this is a list: read the field of each server with `all s in LIST: s.FIELD`"
                    .to_string()
            } else {
                "only servers have fields".to_string()
            };
            self.errors.push(ResolveError::TypeMismatch {
                span: target.span,
                expected: Type::Server.describe(),
                found: owner.describe(),
                help,
            });
            return Type::Unknown;
        }
        match field_type(&field.name) {
            Some(ty) => ty,
            None => {
                let names = SERVER_FIELDS.iter().map(|(name, _)| *name).chain(["state"]);
                let help = match closest(&field.name, names.clone()) {
                    Some(similar) => format!("did you mean `{similar}`?"),
                    None => format!("servers have: {}", list_names(names)),
                };
                self.errors.push(ResolveError::UnknownField {
                    span: field.span,
                    name: field.name.clone(),
                    owner: "a server".into(),
                    help,
                });
                Type::Unknown
            }
        }
    }

    /// `all|any VAR in LIST: BODY`: VAR is bound to the list's element type
    /// in a scope of its own; BODY is a condition.
    fn quantifier(
        &mut self,
        quantifier: Quantifier,
        var: &ast::Ident,
        list: &ast::Expr,
        body: &ast::Expr,
    ) -> Type {
        let found = self.expr(list);
        if !found.is_list() {
            self.expect(
                list,
                &found,
                &Type::server_list(),
                &format!("`{}` goes over a list", quantifier.keyword()),
            );
        }
        self.scopes.push(HashMap::new());
        self.bind(&var.name, found.element());
        let condition = self.expr(body);
        self.scopes.pop();
        self.expect(
            body,
            &condition,
            &Type::Bool,
            "the body of a quantifier is a condition",
        );
        Type::Bool
    }

    fn function(&mut self, call: &ast::Expr, function: &ast::Ident, args: &[ast::Expr]) -> Type {
        if function.name == "changes_since" {
            return self.changes_since(call, args);
        }
        let arg_types: Vec<Type> = args.iter().map(|arg| self.expr(arg)).collect();
        let Some(signature) = FUNCTIONS
            .iter()
            .find(|candidate| candidate.name == function.name)
        else {
            let help = match closest(
                &function.name,
                FUNCTIONS.iter().map(|function| function.name),
            ) {
                Some(similar) => format!("did you mean `{similar}()`?"),
                None => format!(
                    "the functions are: {}",
                    list_names(FUNCTIONS.iter().map(|function| function.signature))
                ),
            };
            self.errors.push(ResolveError::UnknownFunction {
                span: function.span,
                name: function.name.clone(),
                help,
            });
            return Type::Unknown;
        };
        let expected_count = usize::from(signature.name == "count");
        if args.len() != expected_count {
            self.errors.push(ResolveError::WrongArgumentCount {
                span: call.span,
                function: signature.name.to_string(),
                expected: expected_count,
                found: args.len(),
                help: format!("write it as `{}`", signature.signature),
            });
            return Type::Unknown;
        }
        match signature.name {
            "active" => Type::Server,
            "actives" | "standbys" | "servers" | "split_brain" => Type::server_list(),
            "count" => {
                if let (Some(arg), Some(found)) = (args.first(), arg_types.first()) {
                    if !found.is_list() {
                        self.expect(
                            arg,
                            found,
                            &Type::server_list(),
                            "`count` counts the elements of a list",
                        );
                    }
                }
                Type::Number
            }
            _ => Type::Bool,
        }
    }

    /// `changes_since(SERVER, STEP_ID)`: a server, then the id of a step of
    /// this file (not an expression).
    fn changes_since(&mut self, call: &ast::Expr, args: &[ast::Expr]) -> Type {
        let [server, step] = args else {
            self.errors.push(ResolveError::WrongArgumentCount {
                span: call.span,
                function: String::from("changes_since"),
                expected: 2,
                found: args.len(),
                help: String::from("write it as `changes_since(SERVER, STEP_ID)`"),
            });
            return Type::Unknown;
        };
        let found = self.expr(server);
        self.expect(
            server,
            &found,
            &Type::Server,
            "`changes_since` counts the changes made on a server",
        );
        match &step.kind {
            ExprKind::Var(id) => self.step_ref(id),
            _ => self.errors.push(ResolveError::TypeMismatch {
                span: step.span,
                expected: "a step id".into(),
                found: match &step.kind {
                    ExprKind::String(_) => "a string".into(),
                    _ => "an expression".into(),
                },
                help: String::from(
                    "name the step the count starts from: `changes_since(active(), force-final-active)`",
                ),
            }),
        }
        Type::Number
    }

    fn binary(&mut self, op: BinaryOp, lhs: &ast::Expr, rhs: &ast::Expr) -> Type {
        let left = self.expr(lhs);
        let right = self.expr(rhs);
        match op {
            BinaryOp::And | BinaryOp::Or => {
                let why = format!("`{}` combines conditions", op.symbol());
                self.expect(lhs, &left, &Type::Bool, &why);
                self.expect(rhs, &right, &Type::Bool, &why);
                Type::Bool
            }
            BinaryOp::Eq | BinaryOp::Ne => {
                if !right.fits(&left) {
                    self.expect(
                        rhs,
                        &right,
                        &left,
                        "both sides of a comparison have the same type",
                    );
                }
                Type::Bool
            }
            BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge => {
                self.ordering(op, (lhs, &left), (rhs, &right))
            }
            BinaryOp::In => self.membership((lhs, &left), (rhs, &right)),
            BinaryOp::Without => self.without((lhs, left), (rhs, &right)),
        }
    }

    /// `<`, `<=`, `>`, `>=`: both sides numbers, versions or durations, of
    /// one type.
    fn ordering(
        &mut self,
        op: BinaryOp,
        (lhs, left): (&ast::Expr, &Type),
        (rhs, right): (&ast::Expr, &Type),
    ) -> Type {
        let ordered = |ty: &Type| {
            matches!(
                ty,
                Type::Number | Type::Version | Type::Duration | Type::Unknown
            )
        };
        if !ordered(left) {
            self.errors.push(ResolveError::TypeMismatch {
                span: lhs.span,
                expected: "a number, a version or a duration".into(),
                found: left.describe(),
                help: format!("`{}` compares numbers, versions or durations", op.symbol()),
            });
        } else if !right.fits(left) {
            self.expect(
                rhs,
                right,
                left,
                "both sides of a comparison have the same type",
            );
        }
        Type::Bool
    }

    /// `VALUE in LIST`: VALUE has the list's element type.
    fn membership(
        &mut self,
        (lhs, left): (&ast::Expr, &Type),
        (rhs, right): (&ast::Expr, &Type),
    ) -> Type {
        if !right.is_list() {
            self.expect(
                rhs,
                right,
                &Type::List(Box::new(left.clone())),
                "`in` looks for a value in a list",
            );
        } else {
            let element = right.element();
            if !left.fits(&element) {
                self.expect(
                    lhs,
                    left,
                    &element,
                    "`in` looks for a value of the list's element type",
                );
            }
        }
        Type::Bool
    }

    /// `LIST without VALUES`: the list's type, when VALUES is a value or a
    /// list of values of its element type.
    fn without(
        &mut self,
        (lhs, left): (&ast::Expr, Type),
        (rhs, right): (&ast::Expr, &Type),
    ) -> Type {
        if !left.is_list() {
            self.expect(
                lhs,
                &left,
                &Type::server_list(),
                "`without` removes elements from a list",
            );
            return Type::Unknown;
        }
        let element = left.element();
        if !(right.fits(&element) || right.fits(&left)) {
            self.expect(
                rhs,
                right,
                &element,
                "`without` removes a value or a list of values of the list's element type",
            );
        }
        left
    }
}
