//! `runbook graph`: the flow of a runbook as a graph, rendered as Mermaid
//! (`flowchart TD`, renders on code-hosting sites) or Graphviz DOT.
//!
//! The graph is a view of the AST ([`build`]): steps in order; `choose`
//! options and `if`/`else` conditions as labelled branches; `for` loops with
//! their back edge; `call`s as sub-procedure nodes; `stop`, `fail` and
//! `retry` as ends; every What-if handler as a subgraph of its own (a
//! [`Subgraph`], titled with the handler's id and title), entered through a
//! node naming its triggers, which dashed edges labelled with the triggers
//! reach from the steps named in `during` or `failed(STEP)` (or from an
//! "any step" node), so that the main flow reads top to bottom on its own
//! and each handler beside it; a `let` that asks the operator to `select`
//! a server is drawn as an action. Operations, checks and other prompts
//! inside steps are left out so that the picture stays readable; in a file
//! without steps (a procedure) they are drawn, since they are its whole
//! flow. `if` and `for` are drawn only when their body holds something
//! drawn.
//!
//! Labels are held unwrapped; the renderers wrap each one exactly once, with
//! [`crate::wrap::label`], at [`LABEL_WIDTH`] (nodes and subgraph titles) or
//! [`EDGE_LABEL_WIDTH`] (edges), joining lines with the format's own line
//! break.

mod render;

use std::collections::{HashMap, HashSet};

use crate::fmt::{args_to_string, expr_to_string, trigger_to_string};
use crate::syntax::ast::{
    Block, Choose, Expr, ExprKind, File, FileKind, Ident, If, Step, Stmt, StmtKind, TriggerKind,
    WhatIf,
};

/// Output formats of `runbook graph`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, clap::ValueEnum)]
pub enum Format {
    /// A Mermaid `flowchart TD`, for Markdown on code-hosting sites.
    Mermaid,
    /// Graphviz DOT (`dot -Tsvg`).
    Dot,
}

/// What a node stands for, which decides its shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NodeKind {
    /// Where the run starts.
    Start,
    /// Where the run ends normally.
    Done,
    /// A step.
    Step,
    /// An `if` condition or a `choose` prompt.
    Decision,
    /// A `for` loop.
    Loop,
    /// A `call` of a procedure or runbook.
    Call,
    /// An operation, check, wait or prompt (drawn in files without steps).
    Action,
    /// `stop "..."`: the run ends `stopped`.
    Stop,
    /// `fail "..."`: the run ends `failed`.
    Fail,
    /// A What-if handler.
    WhatIf,
    /// The source of What-if handlers without `during`: any step.
    AnyStep,
    /// Where a What-if handler hands back: `retry`, or the next step.
    Resume,
}

/// One node of the graph.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// A safe identifier (letters, digits, `_`; never a reserved word).
    pub id: String,
    /// The text shown, unwrapped: a `\n` only where a new paragraph starts
    /// (the renderers wrap it).
    pub label: String,
    /// What it stands for.
    pub kind: NodeKind,
}

/// How an edge is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EdgeKind {
    /// The normal flow.
    Flow,
    /// From a step to a What-if handler: dashed.
    WhatIf,
}

/// One edge of the graph.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edge {
    /// The source node's id.
    pub from: String,
    /// The target node's id.
    pub to: String,
    /// A branch, option or trigger label.
    pub label: Option<String>,
    /// How it is drawn.
    pub kind: EdgeKind,
}

/// A What-if handler drawn apart from the main flow: a Mermaid `subgraph`,
/// a DOT `cluster_` subgraph.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subgraph {
    /// A safe identifier, `cluster_` followed by the handler node's id.
    pub id: String,
    /// The title: `What if ID: TITLE`.
    pub label: String,
    /// The ids of its nodes, its entry node first.
    pub nodes: Vec<String>,
}

/// The flow graph of one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Graph {
    /// The runbook's or procedure's name.
    pub name: String,
    /// The nodes, in the order they were met.
    pub nodes: Vec<Node>,
    /// The edges, in the order they were met.
    pub edges: Vec<Edge>,
    /// The What-if handlers, each a group of [`Graph::nodes`].
    pub subgraphs: Vec<Subgraph>,
}

impl Graph {
    /// The graph as a Mermaid `flowchart TD`.
    pub fn to_mermaid(&self) -> String {
        render::mermaid(self)
    }

    /// The graph as a Graphviz `digraph`.
    pub fn to_dot(&self) -> String {
        render::dot(self)
    }

    /// The graph in `format`.
    pub fn render(&self, format: Format) -> String {
        match format {
            Format::Mermaid => self.to_mermaid(),
            Format::Dot => self.to_dot(),
        }
    }
}

/// The graph of `file`, parsed from `source` (expressions in labels are
/// printed from it).
pub fn build(file: &File, source: &str) -> Graph {
    let detail = file.steps().is_empty();
    let mut builder = Builder {
        source,
        detail,
        graph: Graph {
            name: file.name.name.clone(),
            nodes: Vec::new(),
            edges: Vec::new(),
            subgraphs: Vec::new(),
        },
        used_ids: HashSet::new(),
        step_nodes: HashMap::new(),
        scope: String::from("top"),
        counter: 0,
    };
    let title = file
        .title
        .as_ref()
        .map_or_else(|| file.name.name.clone(), |title| title.value.clone());
    let start_label = match file.kind {
        FileKind::Runbook => title,
        FileKind::Procedure => format!("procedure {}\n{title}", file.name.name),
    };
    let start = builder.node_with_id("start", NodeKind::Start, &start_label);
    let end = builder.stmts(&file.body, vec![(start, None)]);
    if !end.is_empty() {
        let done = builder.node_with_id("done", NodeKind::Done, "done");
        builder.connect(&end, &done, EdgeKind::Flow);
    }
    let mut any_step = None;
    for what_if in &file.what_ifs {
        builder.what_if(what_if, &mut any_step);
    }
    builder.graph
}

/// Node labels and subgraph titles are wrapped at this many characters.
pub const LABEL_WIDTH: usize = 40;
/// Edge labels are wrapped at this many characters.
pub const EDGE_LABEL_WIDTH: usize = 30;

/// Parses nothing: renders the graph of an already parsed file.
pub fn render(file: &File, source: &str, format: Format) -> String {
    build(file, source).render(format)
}

/// Open ends of the flow: the nodes the next node is reached from, each with
/// the label of that edge.
type Frontier = Vec<(String, Option<String>)>;

struct Builder<'a> {
    source: &'a str,
    detail: bool,
    graph: Graph,
    used_ids: HashSet<String>,
    step_nodes: HashMap<String, String>,
    /// Nodes inside a step or a What-if handler are named after it
    /// (`step_backup_1`), so that editing one step renames nothing elsewhere
    /// and the checked-in graphs change only where the runbook did.
    scope: String,
    /// Nodes named so far in `scope`.
    counter: usize,
}

/// Messages of `stop`/`fail` are cut after this many characters.
const MESSAGE_LIMIT: usize = 90;

impl Builder<'_> {
    fn node_with_id(&mut self, wanted: &str, kind: NodeKind, label: &str) -> String {
        let mut id: String = wanted
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        if id.is_empty() || !id.starts_with(|c: char| c.is_ascii_alphabetic()) {
            id.insert_str(0, "n_");
        }
        let base = id.clone();
        let mut suffix = 2;
        while self.used_ids.contains(&id) {
            id = format!("{base}_{suffix}");
            suffix += 1;
        }
        self.used_ids.insert(id.clone());
        // Mermaid rejects an empty quoted label (`[""]`): an untitled node
        // says so instead.
        let label = if label.trim().is_empty() {
            "(untitled)"
        } else {
            label
        };
        self.graph.nodes.push(Node {
            id: id.clone(),
            label: label.to_string(),
            kind,
        });
        id
    }

    fn node(&mut self, kind: NodeKind, label: &str) -> String {
        self.counter += 1;
        let id = format!("{}_{}", self.scope, self.counter);
        self.node_with_id(&id, kind, label)
    }

    /// Runs `build` with nodes named after `scope`.
    fn scoped<T>(&mut self, scope: &str, build: impl FnOnce(&mut Self) -> T) -> T {
        let saved_scope = std::mem::replace(&mut self.scope, scope.to_string());
        let saved_counter = std::mem::replace(&mut self.counter, 0);
        let result = build(self);
        self.scope = saved_scope;
        self.counter = saved_counter;
        result
    }

    fn connect(&mut self, frontier: &Frontier, to: &str, kind: EdgeKind) {
        for (from, label) in frontier {
            self.graph.edges.push(Edge {
                from: from.clone(),
                to: to.to_string(),
                label: label
                    .as_deref()
                    .filter(|label| !label.trim().is_empty())
                    .map(str::to_string),
                kind,
            });
        }
    }

    /// A node reached from `frontier`; the flow goes on from it.
    fn then(&mut self, frontier: Frontier, kind: NodeKind, label: &str) -> Frontier {
        let id = self.node(kind, label);
        self.connect(&frontier, &id, EdgeKind::Flow);
        vec![(id, None)]
    }

    /// A node reached from `frontier` that ends the flow.
    fn end(&mut self, frontier: Frontier, kind: NodeKind, label: &str) -> Frontier {
        self.then(frontier, kind, label);
        Vec::new()
    }

    fn stmts(&mut self, stmts: &[Stmt], mut frontier: Frontier) -> Frontier {
        for stmt in stmts {
            frontier = self.stmt(stmt, frontier);
        }
        frontier
    }

    fn drawable(&self, stmts: &[Stmt]) -> bool {
        stmts.iter().any(|stmt| match &stmt.kind {
            StmtKind::Step(_)
            | StmtKind::Choose(_)
            | StmtKind::Call(_)
            | StmtKind::Stop { .. }
            | StmtKind::Pause { .. }
            | StmtKind::Fail { .. }
            | StmtKind::Retry => true,
            StmtKind::If(if_stmt) => {
                if_stmt
                    .branches
                    .iter()
                    .any(|branch| self.drawable(&branch.body.stmts))
                    || if_stmt
                        .otherwise
                        .as_ref()
                        .is_some_and(|block| self.drawable(&block.stmts))
            }
            StmtKind::For { body, .. } => self.drawable(&body.stmts),
            StmtKind::Operation(_)
            | StmtKind::Check { .. }
            | StmtKind::Wait { .. }
            | StmtKind::Confirm { .. }
            | StmtKind::Record { .. } => self.detail,
            StmtKind::Let { value, .. } => matches!(value.kind, ExprKind::Select { .. }),
            StmtKind::Note { .. } | StmtKind::Warning { .. } => false,
        })
    }

    /// Draws one statement reached from `frontier`, dispatching on its kind.
    fn stmt(&mut self, stmt: &Stmt, frontier: Frontier) -> Frontier {
        let source = self.source;
        match &stmt.kind {
            StmtKind::Step(step) => self.step(step, frontier),
            StmtKind::Choose(choose) => self.choose(choose, frontier),
            StmtKind::If(if_stmt) => {
                if !self.drawable(std::slice::from_ref(stmt)) {
                    return frontier;
                }
                self.if_chain(if_stmt, frontier)
            }
            StmtKind::For { var, list, body } => self.for_loop(var, list, body, frontier),
            StmtKind::Call(call) => {
                let label = format!(
                    "call {}({})",
                    call.target.name,
                    args_to_string(&call.args, source)
                );
                self.then(frontier, NodeKind::Call, &label)
            }
            StmtKind::Stop { message } => self.end(
                frontier,
                NodeKind::Stop,
                &format!("stop: {}", shorten(&message.text.value)),
            ),
            StmtKind::Pause { message } => self.end(
                frontier,
                NodeKind::Stop,
                &format!("pause: {}", shorten(&message.text.value)),
            ),
            StmtKind::Fail { message } => self.end(
                frontier,
                NodeKind::Fail,
                &format!("fail: {}", shorten(&message.text.value)),
            ),
            StmtKind::Retry => self.end(frontier, NodeKind::Resume, "retry the interrupted step"),
            StmtKind::Let { name, value } => match &value.kind {
                // The operator picks a server: a prompt worth seeing.
                ExprKind::Select { text, .. } => {
                    let label = format!("{} = select: {}", name.name, shorten(&text.value));
                    self.then(frontier, NodeKind::Action, &label)
                }
                _ => frontier,
            },
            _ if !self.detail => frontier,
            StmtKind::Operation(operation) => {
                let label = format!(
                    "{}({})",
                    operation.name.name,
                    args_to_string(&operation.args, source)
                );
                self.then(frontier, NodeKind::Action, &label)
            }
            StmtKind::Check { condition, .. } => {
                let label = format!("check {}", expr_to_string(condition, source));
                self.then(frontier, NodeKind::Action, &label)
            }
            StmtKind::Wait { condition, .. } => {
                let label = format!("wait until {}", expr_to_string(condition, source));
                self.then(frontier, NodeKind::Action, &label)
            }
            StmtKind::Confirm { text, .. } => {
                let label = format!("confirm: {}", shorten(&text.value));
                self.then(frontier, NodeKind::Action, &label)
            }
            StmtKind::Record { text, .. } => {
                let label = format!("record: {}", shorten(&text.value));
                self.then(frontier, NodeKind::Action, &label)
            }
            StmtKind::Note { .. } | StmtKind::Warning { .. } => frontier,
        }
    }

    /// Draws a step node, then its body in the step's own scope.
    fn step(&mut self, step: &Step, frontier: Frontier) -> Frontier {
        let label = match &step.number {
            Some(number) => format!("{}. {}", number.text, step.title.value),
            None => step.title.value.clone(),
        };
        let id = self.node_with_id(&format!("step_{}", step.id.name), NodeKind::Step, &label);
        self.step_nodes.insert(step.id.name.clone(), id.clone());
        self.connect(&frontier, &id, EdgeKind::Flow);
        let scope = id.clone();
        self.scoped(&scope, |builder| {
            builder.stmts(&step.body.stmts, vec![(id, None)])
        })
    }

    /// Draws a `choose` as a decision with one labelled edge per option.
    fn choose(&mut self, choose: &Choose, frontier: Frontier) -> Frontier {
        let decision = self.node(NodeKind::Decision, &choose.text.value);
        self.connect(&frontier, &decision, EdgeKind::Flow);
        let mut out = Vec::new();
        for option in &choose.options {
            let label = if option.is_default {
                format!("{} (default)", option.label.value)
            } else {
                option.label.value.clone()
            };
            out.extend(self.stmts(&option.body.stmts, vec![(decision.clone(), Some(label))]));
        }
        out
    }

    /// Draws an `if` chain as one yes/no decision per branch.
    fn if_chain(&mut self, if_stmt: &If, frontier: Frontier) -> Frontier {
        let mut current = frontier;
        let mut out = Vec::new();
        for branch in &if_stmt.branches {
            let condition = format!("{}?", expr_to_string(&branch.condition, self.source));
            let decision = self.node(NodeKind::Decision, &condition);
            self.connect(&current, &decision, EdgeKind::Flow);
            out.extend(self.stmts(
                &branch.body.stmts,
                vec![(decision.clone(), Some("yes".into()))],
            ));
            current = vec![(decision, Some("no".into()))];
        }
        match &if_stmt.otherwise {
            Some(otherwise) => out.extend(self.stmts(&otherwise.stmts, current)),
            None => out.extend(current),
        }
        out
    }

    /// Draws a `for` as a loop node whose body flows back to it.
    fn for_loop(&mut self, var: &Ident, list: &Expr, body: &Block, frontier: Frontier) -> Frontier {
        if !self.drawable(&body.stmts) {
            return frontier;
        }
        let label = format!(
            "for each {} in {}",
            var.name,
            expr_to_string(list, self.source)
        );
        let loop_node = self.node(NodeKind::Loop, &label);
        self.connect(&frontier, &loop_node, EdgeKind::Flow);
        let end = self.stmts(&body.stmts, vec![(loop_node.clone(), Some("each".into()))]);
        let back: Frontier = end
            .into_iter()
            .map(|(from, label)| (from, label.or(Some("next".into()))))
            .collect();
        self.connect(&back, &loop_node, EdgeKind::Flow);
        vec![(loop_node, Some("done".into()))]
    }

    /// Draws a What-if handler as a subgraph: an entry node naming its
    /// triggers, reached from the steps it watches, then its body.
    fn what_if(&mut self, what_if: &WhatIf, any_step: &mut Option<String>) {
        let source = self.source;
        let triggers: Vec<String> = what_if
            .triggers
            .iter()
            .map(|trigger| trigger_to_string(trigger, source))
            .collect();
        let mut watched: Vec<String> = Vec::new();
        let mut failed: Vec<String> = Vec::new();
        for trigger in &what_if.triggers {
            match &trigger.kind {
                TriggerKind::Failed(step) => failed.push(step.name.clone()),
                _ => watched.push(trigger_to_string(trigger, source)),
            }
        }
        // The "any step" node belongs to the main flow: drawn before the
        // handler so that it never counts as one of its nodes.
        let failed_sources: Vec<String> = failed
            .iter()
            .map(|step| match self.step_nodes.get(step) {
                Some(node) => node.clone(),
                None => self.any_step(any_step),
            })
            .collect();
        let mut watched_sources: Vec<String> = Vec::new();
        if !watched.is_empty() {
            watched_sources = what_if
                .during
                .iter()
                .filter_map(|step| self.step_nodes.get(&step.name).cloned())
                .collect();
            if watched_sources.is_empty() {
                watched_sources.push(self.any_step(any_step));
            }
        }
        let first = self.graph.nodes.len();
        let entry = if triggers.is_empty() {
            String::from("What if")
        } else {
            format!("when {}", triggers.join(", "))
        };
        let handler = self.node_with_id(
            &format!("whatif_{}", what_if.id.name),
            NodeKind::WhatIf,
            &entry,
        );
        for from in failed_sources {
            self.connect(
                &vec![(from, Some("failed".into()))],
                &handler,
                EdgeKind::WhatIf,
            );
        }
        if !watched.is_empty() {
            let label = Some(watched.join(", "));
            let frontier: Frontier = watched_sources
                .into_iter()
                .map(|from| (from, label.clone()))
                .collect();
            self.connect(&frontier, &handler, EdgeKind::WhatIf);
        }
        let scope = handler.clone();
        let entry_node = handler.clone();
        self.scoped(&scope, |builder| {
            let end = builder.stmts(&what_if.body.stmts, vec![(entry_node, None)]);
            if !end.is_empty() {
                let resume = builder.node(NodeKind::Resume, "go on after the interrupted step");
                builder.connect(&end, &resume, EdgeKind::Flow);
            }
        });
        let nodes = self.graph.nodes[first..]
            .iter()
            .map(|node| node.id.clone())
            .collect();
        self.graph.subgraphs.push(Subgraph {
            id: format!("cluster_{handler}"),
            label: format!("What if {}: {}", what_if.id.name, what_if.title.value),
            nodes,
        });
    }

    fn any_step(&mut self, any_step: &mut Option<String>) -> String {
        if let Some(id) = any_step {
            return id.clone();
        }
        let id = self.node_with_id("any_step", NodeKind::AnyStep, "any step");
        *any_step = Some(id.clone());
        id
    }
}

/// `text` cut after [`MESSAGE_LIMIT`] characters, at a word boundary.
fn shorten(text: &str) -> String {
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if text.chars().count() <= MESSAGE_LIMIT {
        return text;
    }
    let cut: String = text.chars().take(MESSAGE_LIMIT).collect();
    let cut = match cut.rfind(' ') {
        Some(space) if space > MESSAGE_LIMIT / 2 => &cut[..space],
        _ => cut.as_str(),
    };
    format!("{}…", cut.trim_end_matches([',', '.', ':', ';']))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shorten_cuts_long_messages_at_a_word() {
        let long = "word ".repeat(40);
        let short = shorten(&long);
        assert!(short.ends_with('…'));
        assert!(short.chars().count() <= MESSAGE_LIMIT + 1);
        assert_eq!(shorten("short message"), "short message");
    }

    #[test]
    fn reserved_and_odd_ids_are_sanitized() {
        let source = "runbook end {\n    title \"t\"\n    step 1 end \"The end\" {\n        stop \"x\"\n    }\n    step 2 a-b \"Dash\" {\n    }\n    step 3 a_b \"Underscore\" {\n    }\n}\n";
        let file = crate::syntax::parse(source).expect("parses");
        let graph = build(&file, source);
        let ids: Vec<&str> = graph.nodes.iter().map(|node| node.id.as_str()).collect();
        assert!(ids.contains(&"step_end"));
        assert!(ids.contains(&"step_a_b"));
        assert!(ids.contains(&"step_a_b_2"), "ids stay unique: {ids:?}");
        assert!(!ids.contains(&"end"));
    }
}
