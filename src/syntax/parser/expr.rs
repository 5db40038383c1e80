//! Expressions: operators through pest's Pratt parser (prefix `not` and
//! quantifiers, infix comparisons and connectives), then terms (an atom and
//! its `.field` accesses) and atoms, one method per kind. Every conversion
//! returns the depth of the tree it built, so that an expression nested
//! deeper than [`MAX_EXPRESSION_DEPTH`] is a diagnostic, never a stack
//! overflow in a later phase.

use std::sync::LazyLock;

use pest::iterators::{Pair, Pairs};
use pest::pratt_parser::{Assoc, Op, PrattParser};

use super::convert::{missing, significant, Converted, Converter};
use super::{Rule, MAX_EXPRESSION_DEPTH};
use crate::domain::{ReplicationState, Version};
use crate::syntax::ast::{BinaryOp, Expr, ExprKind, Quantifier};
use crate::syntax::error::ParseError;
use crate::syntax::span::Span;

static PRATT: LazyLock<PrattParser<Rule>> = LazyLock::new(|| {
    PrattParser::new()
        .op(Op::prefix(Rule::quantifier_head))
        .op(Op::infix(Rule::op_or, Assoc::Left))
        .op(Op::infix(Rule::op_and, Assoc::Left))
        .op(Op::prefix(Rule::op_not))
        .op(Op::infix(Rule::op_eq, Assoc::Left)
            | Op::infix(Rule::op_ne, Assoc::Left)
            | Op::infix(Rule::op_lt, Assoc::Left)
            | Op::infix(Rule::op_le, Assoc::Left)
            | Op::infix(Rule::op_gt, Assoc::Left)
            | Op::infix(Rule::op_ge, Assoc::Left)
            | Op::infix(Rule::op_in, Assoc::Left))
        .op(Op::infix(Rule::op_without, Assoc::Left))
});

/// An expression and the depth of its tree.
type Deep = Converted<(Expr, usize)>;

impl Converter<'_> {
    pub(super) fn expr(&self, pair: Pair<'_, Rule>) -> Converted<Expr> {
        self.expr_with_depth(pair).map(|(expr, _)| expr)
    }

    fn too_complex(&self, span: Span) -> ParseError {
        ParseError::ExpressionTooComplex {
            span,
            limit: MAX_EXPRESSION_DEPTH,
        }
    }

    fn expr_with_depth(&self, pair: Pair<'_, Rule>) -> Deep {
        let pairs = pair.clone().into_inner();
        // Most expressions are a single term: no operators to structure.
        let mut single = pairs.clone();
        if let (Some(term), None) = (single.next(), single.next()) {
            if term.as_rule() == Rule::term {
                return self.term(term);
            }
        }
        let span = self.span(&pair);
        // The Pratt parser recurses once per prefix operator.
        let prefixes = pairs
            .clone()
            .filter(|child| matches!(child.as_rule(), Rule::op_not | Rule::quantifier_head))
            .count();
        if prefixes > MAX_EXPRESSION_DEPTH {
            return Err(self.too_complex(span));
        }
        self.pratt(pairs)
    }

    fn checked(&self, expr: Expr, depth: usize) -> Deep {
        if depth > MAX_EXPRESSION_DEPTH {
            Err(self.too_complex(expr.span))
        } else {
            Ok((expr, depth))
        }
    }

    fn pratt(&self, pairs: Pairs<'_, Rule>) -> Deep {
        PRATT
            .map_primary(|term| self.term(term))
            .map_prefix(|op, operand| self.prefix(op, operand))
            .map_infix(|lhs, op, rhs| self.infix(lhs, op, rhs))
            .parse(pairs)
    }

    /// `not EXPR`, or a quantifier (`all NAME in LIST: EXPR`).
    fn prefix(&self, op: Pair<'_, Rule>, operand: Deep) -> Deep {
        let (operand, depth) = operand?;
        let op_span = self.span(&op);
        let span = op_span.to(operand.span);
        if op.as_rule() != Rule::op_not {
            return self.quantifier(op, op_span, (operand, depth), span);
        }
        let kind = ExprKind::Not(Box::new(operand));
        self.checked(Expr { kind, span }, depth + 1)
    }

    /// `all|any NAME in LIST: BODY`, where LIST may be `A without B ...`.
    fn quantifier(
        &self,
        op: Pair<'_, Rule>,
        op_span: Span,
        (operand, depth): (Expr, usize),
        span: Span,
    ) -> Deep {
        let mut quantifier = Quantifier::All;
        let mut var = None;
        let mut list: Option<(Expr, usize)> = None;
        let mut without_span = None;
        for child in significant(op) {
            match child.as_rule() {
                Rule::kw_any => quantifier = Quantifier::Any,
                Rule::var_name => var = Some(self.ident(&child)),
                Rule::op_without => without_span = Some(self.span(&child)),
                Rule::term => {
                    let (term, term_depth) = self.term(child)?;
                    list = Some(match (list, without_span.take()) {
                        (Some((lhs, lhs_depth)), Some(op_span)) => {
                            let span = lhs.span.to(term.span);
                            self.checked(
                                Expr {
                                    kind: ExprKind::Binary {
                                        op: BinaryOp::Without,
                                        op_span,
                                        lhs: Box::new(lhs),
                                        rhs: Box::new(term),
                                    },
                                    span,
                                },
                                lhs_depth.max(term_depth) + 1,
                            )?
                        }
                        _ => (term, term_depth),
                    });
                }
                _ => {}
            }
        }
        let (list, list_depth) = list.ok_or_else(|| missing(op_span, "a list"))?;
        self.checked(
            Expr {
                kind: ExprKind::Quantifier {
                    quantifier,
                    var: var.ok_or_else(|| missing(op_span, "a name"))?,
                    list: Box::new(list),
                    body: Box::new(operand),
                },
                span,
            },
            depth.max(list_depth) + 1,
        )
    }

    /// `LHS OP RHS`
    fn infix(&self, lhs: Deep, op: Pair<'_, Rule>, rhs: Deep) -> Deep {
        let (lhs, lhs_depth) = lhs?;
        let (rhs, rhs_depth) = rhs?;
        let op_kind = match op.as_rule() {
            Rule::op_or => BinaryOp::Or,
            Rule::op_and => BinaryOp::And,
            Rule::op_eq => BinaryOp::Eq,
            Rule::op_ne => BinaryOp::Ne,
            Rule::op_lt => BinaryOp::Lt,
            Rule::op_le => BinaryOp::Le,
            Rule::op_gt => BinaryOp::Gt,
            Rule::op_ge => BinaryOp::Ge,
            Rule::op_in => BinaryOp::In,
            _ => BinaryOp::Without,
        };
        let span = lhs.span.to(rhs.span);
        self.checked(
            Expr {
                kind: ExprKind::Binary {
                    op: op_kind,
                    op_span: self.span(&op),
                    lhs: Box::new(lhs),
                    rhs: Box::new(rhs),
                },
                span,
            },
            lhs_depth.max(rhs_depth) + 1,
        )
    }

    fn term(&self, pair: Pair<'_, Rule>) -> Deep {
        // The term's own span is only needed for an error.
        let whole = pair.clone();
        let mut children = pair.into_inner();
        let atom = children
            .next()
            .ok_or_else(|| missing(self.span(&whole), "an expression"))?;
        let (mut expr, mut depth) = self.atom(atom)?;
        for access in children {
            let field = significant(access)
                .next()
                .ok_or_else(|| missing(self.span(&whole), "a field name"))?;
            let field = self.ident(&field);
            let span = expr.span.to(field.span);
            depth += 1;
            if depth > MAX_EXPRESSION_DEPTH {
                return Err(self.too_complex(span));
            }
            expr = Expr {
                kind: ExprKind::Field {
                    target: Box::new(expr),
                    field,
                },
                span,
            };
        }
        Ok((expr, depth))
    }

    fn atom(&self, pair: Pair<'_, Rule>) -> Deep {
        let (span, text) = self.token(&pair);
        let leaf = |kind| Ok((Expr { kind, span }, 1));
        match pair.as_rule() {
            Rule::paren_expr => self.paren(pair, span),
            Rule::list => self.list(pair, span),
            Rule::select_expr => self.select(pair, span),
            Rule::reference => self.reference(pair, span),
            Rule::string => {
                let literal = self.string(pair)?;
                leaf(ExprKind::String(literal.value))
            }
            Rule::duration => leaf(ExprKind::Duration(self.duration(text, span)?)),
            Rule::version => match text.parse::<Version>() {
                Ok(version) => leaf(ExprKind::Version(version)),
                Err(_) => Err(ParseError::InvalidNumber {
                    span,
                    text: text.to_string(),
                }),
            },
            Rule::number => leaf(ExprKind::Number(self.number(text, span)?)),
            Rule::bad_number => Err(ParseError::InvalidDuration {
                span,
                text: text.to_string(),
            }),
            Rule::boolean => leaf(ExprKind::Bool(text == "true")),
            Rule::state => match text.parse::<ReplicationState>() {
                Ok(state) => leaf(ExprKind::State(state)),
                Err(_) => Err(missing(span, "a replication state")),
            },
            _ => Err(missing(span, "an expression")),
        }
    }

    /// `( EXPR )`: the expression, spanning its parentheses.
    fn paren(&self, pair: Pair<'_, Rule>, span: Span) -> Deep {
        let inner = significant(pair)
            .next()
            .ok_or_else(|| missing(span, "an expression"))?;
        let (mut expr, depth) = self.expr_with_depth(inner)?;
        expr.span = span;
        Ok((expr, depth))
    }

    /// `[A, B, ...]`
    fn list(&self, pair: Pair<'_, Rule>, span: Span) -> Deep {
        let mut depth = 0;
        let mut items = Vec::new();
        for item in significant(pair) {
            let (item, item_depth) = self.expr_with_depth(item)?;
            depth = depth.max(item_depth);
            items.push(item);
        }
        Ok((
            Expr {
                kind: ExprKind::List(items),
                span,
            },
            depth + 1,
        ))
    }

    /// `select ID "QUESTION" from LIST`
    fn select(&self, pair: Pair<'_, Rule>, span: Span) -> Deep {
        let mut parts = significant(pair);
        let id = parts.next().ok_or_else(|| missing(span, "a prompt id"))?;
        let question = parts.next().ok_or_else(|| missing(span, "a string"))?;
        let from = parts.next().ok_or_else(|| missing(span, "a list"))?;
        let (from, depth) = self.term(from)?;
        Ok((
            Expr {
                kind: ExprKind::Select {
                    id: self.ident(&id),
                    text: self.string(question)?,
                    from: Box::new(from),
                },
                span,
            },
            depth + 1,
        ))
    }

    /// A variable (`NAME`) or a function call (`NAME(ARGS)`).
    fn reference(&self, pair: Pair<'_, Rule>, span: Span) -> Deep {
        let mut parts = pair.into_inner();
        let name = parts.next().ok_or_else(|| missing(span, "a name"))?;
        let name = self.ident(&name);
        let Some(call_args) = parts.next() else {
            return Ok((
                Expr {
                    kind: ExprKind::Var(name),
                    span,
                },
                1,
            ));
        };
        let mut depth = 0;
        let mut args = Vec::new();
        for arg in significant(call_args) {
            let (arg, arg_depth) = self.expr_with_depth(arg)?;
            depth = depth.max(arg_depth);
            args.push(arg);
        }
        Ok((
            Expr {
                kind: ExprKind::Call {
                    function: name,
                    args,
                },
                span,
            },
            depth + 1,
        ))
    }
}
