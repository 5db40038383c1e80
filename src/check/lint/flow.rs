//! A small abstract interpretation of a runbook, shared by the domain rules.
//!
//! It walks every statement once, joining the branches of `if` and `choose`
//! and running a loop body once for an arbitrary element, and tracks what is
//! *known* about each server-valued name: running or stopped, excluded from
//! replication, mode ([`Mode`]), replication state ([`ReplicationState`]),
//! plus a few facts about the group of Standby servers. Operations are read
//! as the cluster model's [`Operation`]s and their effects applied. Calls to
//! procedures are followed (their findings are reported at the `call`).
//!
//! The analysis is deliberately one-sided: rules only fire on what is
//! *known* to be wrong on some path, so an unknown fact never produces a
//! finding. A What-if body starts from the group facts known at the start of
//! its `during` steps, with every server's mode and state unknown (the
//! trigger has just changed them).

use std::collections::{BTreeMap, HashMap};

use crate::cluster::{Mode, Operation, ReplicationState, Version};
use crate::syntax::ast::{
    BinaryOp, Block, Call, Choose, ExprKind, File, Ident, If, OperationCall, Quantifier, Step,
    Stmt, StmtKind,
};
use crate::syntax::ast::{Expr, FileKind};
use crate::syntax::Span;

/// How deep calls into procedures are followed.
const MAX_CALL_DEPTH: usize = 8;

/// How many statements of called procedures are analyzed in all, so that a
/// file calling a procedure that calls another, many times over, cannot make
/// the analysis explode; past it, calls are no longer followed.
const INLINED_STATEMENT_BUDGET: usize = 200_000;

/// An identifier for one server-valued name (or one role call such as `active()`).
pub type SymbolId = usize;

/// What is known about one server at one point of one path.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServerFacts {
    /// Whether the server runs, when known.
    pub running: Option<bool>,
    /// Whether the server is excluded from replication, when known.
    pub excluded: Option<bool>,
    /// The server's mode, when known.
    pub mode: Option<Mode>,
    /// The server's replication state, when known.
    pub state: Option<ReplicationState>,
    /// Known to be stopped or excluded, even when neither alone is known.
    detached_hint: bool,
    /// Known to be excluded or never initialized, even when neither alone is known.
    init_ready_hint: bool,
}

impl ServerFacts {
    /// Known to be stopped or excluded from replication.
    pub fn is_detached(&self) -> bool {
        self.running == Some(false) || self.excluded == Some(true) || self.detached_hint
    }

    /// Known to be excluded, or never initialized (`STB_NO_REP`): it may be
    /// initialized (invariant 4).
    pub fn is_ready_for_init(&self) -> bool {
        self.excluded == Some(true)
            || self.state == Some(ReplicationState::StbNoRep)
            || self.init_ready_hint
    }

    /// Known to be the Active.
    pub fn is_active(&self) -> bool {
        self.mode == Some(Mode::Active)
    }

    fn join(&self, other: &ServerFacts) -> ServerFacts {
        fn same<T: PartialEq + Copy>(left: Option<T>, right: Option<T>) -> Option<T> {
            if left == right {
                left
            } else {
                None
            }
        }
        ServerFacts {
            running: same(self.running, other.running),
            excluded: same(self.excluded, other.excluded),
            mode: same(self.mode, other.mode),
            state: same(self.state, other.state),
            detached_hint: self.is_detached() && other.is_detached(),
            init_ready_hint: self.is_ready_for_init() && other.is_ready_for_init(),
        }
    }
}

/// Facts about the group of Standby servers (`standbys()`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GroupFacts {
    /// Every Standby is known to be stopped or excluded.
    pub standbys_detached: bool,
    /// Every Standby is known to be excluded.
    pub standbys_excluded: bool,
    /// The operation after which, on some path, a Standby may be running and
    /// replicating again (a `start-server`, an `init-standby`).
    pub reattached_at: Option<Span>,
}

impl GroupFacts {
    fn join(self, other: GroupFacts) -> GroupFacts {
        GroupFacts {
            standbys_detached: self.standbys_detached && other.standbys_detached,
            standbys_excluded: self.standbys_excluded && other.standbys_excluded,
            reattached_at: self.reattached_at.or(other.reattached_at),
        }
    }

    fn reattach(&mut self, at: Span) {
        self.standbys_detached = false;
        self.standbys_excluded = false;
        self.reattached_at = Some(at);
    }
}

/// The abstract state of one program point (the join of every path to it).
#[derive(Debug, Clone, Default)]
struct State {
    /// `false` once every path ended (`stop`, `fail`, `retry`).
    reachable: bool,
    servers: HashMap<SymbolId, ServerFacts>,
    group: GroupFacts,
    /// Some server was force-activated on some path to here.
    force_activated: bool,
    /// Servers known Active when another one was force-activated, not yet
    /// demoted on some path (see [`Pending`]).
    pending_demotion: BTreeMap<SymbolId, Pending>,
}

/// A server left Active beside a force-activated one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Pending {
    /// The `force-activate` (or the `call` that led to it).
    force_activation: Span,
    /// The force-activated server.
    forced: SymbolId,
    /// Stopped on every path to here: not Active while it stays stopped,
    /// but not demoted either (an upgrade or a start runs it again in its
    /// role, Active).
    stopped: bool,
    /// The operation that ran it again after it was stopped, if one did.
    restarted_at: Option<Span>,
}

impl State {
    fn unreachable() -> State {
        State::default()
    }

    fn facts(&self, symbol: SymbolId) -> ServerFacts {
        self.servers.get(&symbol).cloned().unwrap_or_default()
    }

    fn facts_mut(&mut self, symbol: SymbolId) -> &mut ServerFacts {
        self.servers.entry(symbol).or_default()
    }

    fn join(self, other: State) -> State {
        if !self.reachable {
            return other;
        }
        if !other.reachable {
            return self;
        }
        let mut servers = HashMap::new();
        for (symbol, facts) in &self.servers {
            if let Some(other_facts) = other.servers.get(symbol) {
                let joined = facts.join(other_facts);
                if joined != ServerFacts::default() {
                    servers.insert(*symbol, joined);
                }
            }
        }
        let mut pending_demotion = self.pending_demotion;
        for (symbol, pending) in other.pending_demotion {
            pending_demotion
                .entry(symbol)
                .and_modify(|known| {
                    // Running on some path is what counts.
                    if known.stopped && !pending.stopped {
                        *known = pending;
                    }
                })
                .or_insert(pending);
        }
        State {
            reachable: true,
            servers,
            group: self.group.join(other.group),
            force_activated: self.force_activated || other.force_activated,
            pending_demotion,
        }
    }
}

/// Where an operation was met.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperationVisit {
    /// The operation, with the server written as its name in the runbook.
    pub operation: Operation,
    /// Where to report: the operation, or the outermost `call` that led to it.
    pub span: Span,
    /// The procedure the operation is written in, when reached through `call`.
    pub via_procedure: Option<String>,
    /// What was known about the operation's server just before it.
    pub before: ServerFacts,
    /// The group facts just before it.
    pub group: GroupFacts,
    /// A server was force-activated earlier on some path.
    pub force_activated_before: bool,
    /// Another server (by name) known to be Active just before it.
    pub other_active: Option<String>,
    /// The id of the enclosing step of the linted file.
    pub step: Option<String>,
    /// The `discards changes on` clauses around the operation (its step's,
    /// its enclosing `choose` options', its What-if's), outermost first, each
    /// with the server it names when that is known.
    pub discards_changes_on: Vec<Option<String>>,
    /// The innermost `choose` option around the operation inside its step,
    /// as (`choose` id, option name).
    pub option: Option<(String, String)>,
    /// The What-if whose body holds the operation.
    pub what_if: Option<String>,
}

/// A force activation after which, on some path, another server was left
/// Active until the end of the run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UndemotedActive {
    /// The `force-activate` (or the `call` that led to it).
    pub force_activation: Span,
    /// The server left Active beside the force-activated one.
    pub other_active: String,
    /// The force-activated server.
    pub forced: String,
    /// Where the path ended (`stop`, `fail`, or the end of the body).
    pub path_end: Span,
    /// The upgrade or start that ran the other Active again after it was
    /// stopped (a stop alone is not a demotion), if one did.
    pub restarted_at: Option<Span>,
}

/// What the analysis found, for the rules to read.
#[derive(Debug, Clone, Default)]
pub struct FlowFacts {
    /// Every operation met, in walking order (What-if bodies last).
    pub operations: Vec<OperationVisit>,
    /// Force activations that leave two Actives at the end of some path.
    pub undemoted_actives: Vec<UndemotedActive>,
}

/// A value as far as the analysis cares.
#[derive(Debug, Clone)]
enum Value {
    Server(SymbolId),
    List(ListValue),
    Other,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ListBase {
    Standbys,
    Servers,
    Actives,
    Unknown,
}

#[derive(Debug, Clone)]
struct ListValue {
    base: ListBase,
    minus: Vec<SymbolId>,
}

/// Lexical bindings: a stack of names, truncated when a block ends.
#[derive(Debug, Clone, Default)]
struct Env {
    bindings: Vec<(String, Value)>,
}

impl Env {
    fn lookup(&self, name: &str) -> Option<&Value> {
        self.bindings
            .iter()
            .rev()
            .find(|(bound, _)| bound == name)
            .map(|(_, value)| value)
    }

    fn bind(&mut self, name: &str, value: Value) {
        self.bindings.push((name.to_owned(), value));
    }
}

/// The enclosing step of the linted file.
#[derive(Debug, Clone)]
struct StepContext {
    id: String,
    discards_changes: bool,
    discards_changes_on: Option<String>,
}

struct Analyzer<'a> {
    procedures: &'a HashMap<String, &'a File>,
    symbol_names: Vec<String>,
    facts: FlowFacts,
    call_stack: Vec<String>,
    /// The outermost `call` span while inside a procedure.
    call_span: Option<Span>,
    /// Inside a called `runbook`: effects only, no findings (it is linted on its own).
    silent: usize,
    step: Option<StepContext>,
    /// The `discards changes on` clauses of the enclosing `choose` options
    /// and What-if, outermost first (the step's is in `step`).
    discard_clauses: Vec<Option<String>>,
    /// The enclosing `choose` options inside the current step, outermost
    /// first, as (`choose` id, option name).
    options: Vec<(String, String)>,
    what_if: Option<String>,
    /// The group facts at the start of each step, joined over visits.
    step_entry_groups: HashMap<String, GroupFacts>,
    /// Statements of called procedures still allowed to be analyzed.
    inline_budget: usize,
}

/// Runs the analysis over `file`; `procedures` maps a callable name to its file.
pub fn analyze(file: &File, procedures: &HashMap<String, &File>) -> FlowFacts {
    let mut analyzer = Analyzer {
        procedures,
        symbol_names: Vec::new(),
        facts: FlowFacts::default(),
        call_stack: vec![file.name.name.clone()],
        call_span: None,
        silent: 0,
        step: None,
        discard_clauses: Vec::new(),
        options: Vec::new(),
        what_if: None,
        step_entry_groups: HashMap::new(),
        inline_budget: INLINED_STATEMENT_BUDGET,
    };
    let mut env = Env::default();
    for param in &file.params {
        let value = analyzer.param_value(&param.name.name, &param.ty);
        env.bind(&param.name.name, value);
    }
    let state = State {
        reachable: true,
        ..State::default()
    };
    let end = analyzer.block_in_place(&file.body, &mut env, state);
    analyzer.end_path(&end, Span::empty(file.span.end as usize));

    // What-if bodies see the top-level bindings.
    for what_if in &file.what_ifs {
        let mut group = None::<GroupFacts>;
        let steps: Vec<String> = if what_if.during.is_empty() {
            analyzer.step_entry_groups.keys().cloned().collect()
        } else {
            what_if.during.iter().map(|id| id.name.clone()).collect()
        };
        for step in steps {
            if let Some(entry) = analyzer.step_entry_groups.get(&step) {
                group = Some(group.map_or(*entry, |known| known.join(*entry)));
            }
        }
        let state = State {
            reachable: true,
            group: group.unwrap_or_default(),
            ..State::default()
        };
        analyzer.what_if = Some(what_if.id.name.clone());
        let mut what_if_env = env.clone();
        analyzer.discard_clauses = what_if
            .discards_changes_on
            .iter()
            .map(|server| analyzer.named_server(server, &what_if_env))
            .collect();
        let end = analyzer.block_in_place(&what_if.body.stmts, &mut what_if_env, state);
        analyzer.end_path(&end, Span::empty(what_if.body.span.end as usize));
        analyzer.discard_clauses.clear();
        analyzer.what_if = None;
    }
    analyzer.facts
}

impl Analyzer<'_> {
    fn new_symbol(&mut self, name: &str) -> SymbolId {
        self.symbol_names.push(name.to_owned());
        self.symbol_names.len() - 1
    }

    fn symbol_name(&self, symbol: SymbolId) -> String {
        self.symbol_names
            .get(symbol)
            .cloned()
            .unwrap_or_else(|| "a server".to_owned())
    }

    fn reporting(&self) -> bool {
        self.silent == 0
    }

    fn report_span(&self, span: Span) -> Span {
        self.call_span.unwrap_or(span)
    }

    fn param_value(&mut self, name: &str, ty: &crate::syntax::ast::ParamType) -> Value {
        use crate::syntax::ast::ParamType;
        match ty {
            ParamType::Server => Value::Server(self.new_symbol(name)),
            ParamType::ServerList => Value::List(ListValue {
                base: ListBase::Unknown,
                minus: Vec::new(),
            }),
            _ => Value::Other,
        }
    }

    /// Records the end of a path: force activations still waiting for the
    /// other Active to be demoted.
    fn end_path(&mut self, state: &State, at: Span) {
        if !state.reachable || !self.reporting() {
            return;
        }
        for (symbol, pending) in &state.pending_demotion {
            if pending.stopped {
                continue;
            }
            let finding = UndemotedActive {
                force_activation: pending.force_activation,
                other_active: self.symbol_name(*symbol),
                forced: self.symbol_name(pending.forced),
                path_end: at,
                restarted_at: pending.restarted_at,
            };
            if !self.facts.undemoted_actives.contains(&finding) {
                self.facts.undemoted_actives.push(finding);
            }
        }
    }

    /// Runs statements in `env` (bindings stay), for the top level of a body.
    fn block_in_place(&mut self, stmts: &[Stmt], env: &mut Env, mut state: State) -> State {
        for stmt in stmts {
            if !state.reachable {
                break;
            }
            state = self.stmt(stmt, env, state);
        }
        state
    }

    /// Runs a nested block: its bindings and their facts end with it.
    fn block(&mut self, block: &Block, env: &mut Env, state: State) -> State {
        let depth = env.bindings.len();
        let first_symbol = self.symbol_names.len();
        let mut state = self.block_in_place(&block.stmts, env, state);
        env.bindings.truncate(depth);
        state.servers.retain(|symbol, _| *symbol < first_symbol);
        state
    }

    /// Runs one statement, dispatching on its kind.
    fn stmt(&mut self, stmt: &Stmt, env: &mut Env, state: State) -> State {
        if self.call_stack.len() > 1 {
            self.inline_budget = self.inline_budget.saturating_sub(1);
        }
        match &stmt.kind {
            StmtKind::Let { name, value } => {
                let (value, state) = self.eval_binding(value, &name.name, env, state);
                env.bind(&name.name, value);
                state
            }
            StmtKind::Record { id, .. } => {
                env.bind(&id.name.replace('-', "_"), Value::Other);
                state
            }
            StmtKind::Step(step) => self.step(step, env, state),
            StmtKind::Operation(call) => self.operation(call, env, state),
            StmtKind::Choose(choose) => self.choose(choose, env, state),
            StmtKind::Check { condition, .. } => self.assume(condition, true, env, state),
            StmtKind::Wait { condition, .. } => self.assume(condition, true, env, state),
            StmtKind::If(if_stmt) => self.if_chain(if_stmt, env, state),
            StmtKind::For { var, list, body } => self.for_loop(&var.name, list, body, env, state),
            StmtKind::Call(call) => self.call(call, env, state),
            StmtKind::Stop { message }
            | StmtKind::Pause { message }
            | StmtKind::Fail { message } => {
                self.end_path(&state, message.span());
                State::unreachable()
            }
            StmtKind::Retry => State::unreachable(),
            StmtKind::Note { .. } | StmtKind::Warning { .. } | StmtKind::Confirm { .. } => state,
        }
    }

    /// Runs a step's body with the step (and its entry group) as context.
    fn step(&mut self, step: &Step, env: &mut Env, state: State) -> State {
        let previous = self.step.take();
        if self.reporting() && self.call_stack.len() == 1 {
            let entry = self
                .step_entry_groups
                .entry(step.id.name.clone())
                .or_insert(state.group);
            *entry = entry.join(state.group);
            self.step = Some(StepContext {
                id: step.id.name.clone(),
                discards_changes: step.discards_changes_on.is_some(),
                discards_changes_on: match step.discards_changes_on.as_ref().map(|expr| &expr.kind)
                {
                    Some(ExprKind::Var(name)) => Some(name.name.clone()),
                    _ => None,
                },
            });
        } else {
            self.step = previous.clone();
        }
        // Help names the innermost place to put the clause: options
        // around the step are not inside it.
        let outer_options = std::mem::take(&mut self.options);
        let state = self.block(&step.body, env, state);
        self.options = outer_options;
        self.step = previous;
        state
    }

    /// Runs each option of a `choose` from the same state and joins them.
    fn choose(&mut self, choose: &Choose, env: &mut Env, state: State) -> State {
        let mut joined = State::unreachable();
        for option in &choose.options {
            let clause = option
                .discards_changes_on
                .as_ref()
                .map(|server| self.named_server(server, env));
            let pushed = clause.is_some();
            self.discard_clauses.extend(clause);
            self.options
                .push((choose.id.name.clone(), option.name.name.clone()));
            let branch = self.block(&option.body, env, state.clone());
            self.options.pop();
            if pushed {
                self.discard_clauses.pop();
            }
            joined = joined.join(branch);
        }
        if choose.options.is_empty() {
            state
        } else {
            joined
        }
    }

    /// Runs each branch of an `if` chain under its condition and joins them.
    fn if_chain(&mut self, if_stmt: &If, env: &mut Env, state: State) -> State {
        let mut rest = state;
        let mut joined = State::unreachable();
        for branch in &if_stmt.branches {
            let taken = self.assume(&branch.condition, true, env, rest.clone());
            let taken = self.block(&branch.body, env, taken);
            joined = joined.join(taken);
            rest = self.assume(&branch.condition, false, env, rest);
        }
        let otherwise = match &if_stmt.otherwise {
            Some(block) => self.block(block, env, rest),
            None => rest,
        };
        joined.join(otherwise)
    }

    /// Evaluates the value of a `let`: server roles get a named symbol.
    fn eval_binding(
        &mut self,
        expr: &Expr,
        name: &str,
        env: &Env,
        mut state: State,
    ) -> (Value, State) {
        match &expr.kind {
            ExprKind::Call { function, args } if function.name == "active" && args.is_empty() => {
                let symbol = self.new_symbol(name);
                state.facts_mut(symbol).mode = Some(Mode::Active);
                (Value::Server(symbol), state)
            }
            ExprKind::Select { from, .. } => {
                let symbol = self.new_symbol(name);
                if let Value::List(list) = self.eval(from, env) {
                    let facts = self.element_facts(&list, &state);
                    state.servers.insert(symbol, facts);
                }
                (Value::Server(symbol), state)
            }
            _ => (self.eval(expr, env), state),
        }
    }

    /// What is known of any element of a list.
    fn element_facts(&self, list: &ListValue, state: &State) -> ServerFacts {
        let mut facts = ServerFacts::default();
        match list.base {
            ListBase::Standbys => {
                facts.mode = Some(Mode::Standby);
                if state.group.standbys_excluded {
                    facts.excluded = Some(true);
                }
                if state.group.standbys_detached {
                    facts.detached_hint = true;
                }
            }
            ListBase::Actives => facts.mode = Some(Mode::Active),
            ListBase::Servers | ListBase::Unknown => {}
        }
        facts
    }

    /// The server a `discards changes on` clause names, as operations name
    /// it, when the analysis knows which one it is.
    fn named_server(&self, server: &Expr, env: &Env) -> Option<String> {
        match self.eval(server, env) {
            Value::Server(symbol) => Some(self.symbol_name(symbol)),
            _ => None,
        }
    }

    fn eval(&self, expr: &Expr, env: &Env) -> Value {
        match &expr.kind {
            ExprKind::Var(ident) => env.lookup(&ident.name).cloned().unwrap_or(Value::Other),
            ExprKind::Call { function, args } if args.is_empty() => {
                let base = match function.name.as_str() {
                    "standbys" => ListBase::Standbys,
                    "servers" => ListBase::Servers,
                    "actives" => ListBase::Actives,
                    _ => return Value::Other,
                };
                Value::List(ListValue {
                    base,
                    minus: Vec::new(),
                })
            }
            ExprKind::Binary {
                op: BinaryOp::Without,
                lhs,
                rhs,
                ..
            } => match self.eval(lhs, env) {
                Value::List(mut list) => {
                    match self.eval(rhs, env) {
                        Value::Server(symbol) => list.minus.push(symbol),
                        Value::List(_) | Value::Other => list.base = ListBase::Unknown,
                    }
                    Value::List(list)
                }
                _ => Value::Other,
            },
            ExprKind::List(_) => Value::List(ListValue {
                base: ListBase::Unknown,
                minus: Vec::new(),
            }),
            _ => Value::Other,
        }
    }

    /// The symbol of a server argument; role calls get a temporary symbol.
    fn server_arg(&mut self, expr: &Expr, env: &Env, state: &mut State) -> Option<SymbolId> {
        match self.eval(expr, env) {
            Value::Server(symbol) => Some(symbol),
            _ => match &expr.kind {
                ExprKind::Call { function, args }
                    if function.name == "active" && args.is_empty() =>
                {
                    // `active()` is the one Active: a name known to be it is the same server.
                    let known = state
                        .servers
                        .iter()
                        .filter(|(_, facts)| facts.is_active())
                        .map(|(symbol, _)| *symbol)
                        .min();
                    if let Some(symbol) = known {
                        return Some(symbol);
                    }
                    let symbol = self.new_symbol("active()");
                    state.facts_mut(symbol).mode = Some(Mode::Active);
                    Some(symbol)
                }
                ExprKind::Var(ident) => Some(self.new_symbol(&ident.name)),
                _ => None,
            },
        }
    }

    fn operation(&mut self, call: &OperationCall, env: &Env, mut state: State) -> State {
        let argument = |name: &str| call.args.iter().find(|arg| arg.name.name == name);
        let Some(server_arg) = argument("server") else {
            return state;
        };
        let Some(symbol) = self.server_arg(&server_arg.value, env, &mut state) else {
            return state;
        };
        let server = self.symbol_name(symbol);
        let force = matches!(
            argument("force").map(|arg| &arg.value.kind),
            Some(ExprKind::Bool(true))
        );
        let version = argument("version")
            .and_then(|arg| match &arg.value.kind {
                ExprKind::Version(version) => Some(version.clone()),
                _ => None,
            })
            .or_else(|| "0".parse::<Version>().ok());
        let Some(operation) = Operation::from_name(&call.name.name, server, force, version) else {
            return state;
        };
        let span = self.report_span(call.span);
        if self.reporting() {
            let other_active = state
                .servers
                .iter()
                .filter(|(other, facts)| **other != symbol && facts.is_active())
                .map(|(other, _)| *other)
                .min()
                .map(|other| self.symbol_name(other));
            self.facts.operations.push(OperationVisit {
                operation: operation.clone(),
                span,
                via_procedure: (self.call_stack.len() > 1)
                    .then(|| self.call_stack.last().cloned())
                    .flatten(),
                before: state.facts(symbol),
                group: state.group,
                force_activated_before: state.force_activated,
                other_active,
                step: self.step.as_ref().map(|step| step.id.clone()),
                discards_changes_on: self
                    .step
                    .iter()
                    .filter(|step| step.discards_changes)
                    .map(|step| step.discards_changes_on.clone())
                    .chain(self.discard_clauses.iter().cloned())
                    .collect(),
                option: self.options.last().cloned(),
                what_if: self.what_if.clone(),
            });
        }
        apply_operation(&operation, symbol, span, &mut state);
        state
    }

    fn for_loop(
        &mut self,
        var: &str,
        list: &Expr,
        body: &Block,
        env: &mut Env,
        state: State,
    ) -> State {
        let list = match self.eval(list, env) {
            Value::List(list) => list,
            _ => ListValue {
                base: ListBase::Unknown,
                minus: Vec::new(),
            },
        };
        let element = self.new_symbol(var);
        let mut entry = state.clone();
        entry
            .servers
            .insert(element, self.element_facts(&list, &state));
        let depth = env.bindings.len();
        env.bind(var, Value::Server(element));
        let exit = self.block(body, env, entry.clone());
        env.bindings.truncate(depth);

        let element_exit = exit.facts(element);
        let element_entry = entry.facts(element);
        // Zero iterations are possible: join with the state before the loop.
        let mut after = state.clone().join(exit.clone());
        if !exit.reachable {
            after = state.clone();
        }
        // The element may be any member of the list: what the body changed on
        // it is no longer known of the other members.
        let members: Vec<SymbolId> = after
            .servers
            .keys()
            .copied()
            .filter(|symbol| *symbol != element && !list.minus.contains(symbol))
            .filter(|symbol| {
                let mode = state.facts(*symbol).mode;
                match list.base {
                    ListBase::Standbys => mode != Some(Mode::Active),
                    ListBase::Actives => mode != Some(Mode::Standby),
                    ListBase::Servers | ListBase::Unknown => true,
                }
            })
            .collect();
        for symbol in members {
            let facts = after.facts_mut(symbol);
            if element_exit.running != element_entry.running {
                facts.running = None;
                facts.detached_hint = false;
            }
            if element_exit.excluded != element_entry.excluded {
                facts.excluded = None;
                facts.detached_hint = false;
                facts.init_ready_hint = false;
            }
            if element_exit.mode != element_entry.mode {
                facts.mode = None;
            }
            if element_exit.state != element_entry.state {
                facts.state = None;
            }
        }
        after.servers.remove(&element);
        if list.base == ListBase::Standbys && exit.reachable {
            let rest_detached = list
                .minus
                .iter()
                .all(|symbol| after.facts(*symbol).is_detached());
            let rest_excluded = list
                .minus
                .iter()
                .all(|symbol| after.facts(*symbol).excluded == Some(true));
            if element_exit.is_detached() && rest_detached {
                after.group.standbys_detached = true;
                after.group.reattached_at = None;
            }
            if element_exit.excluded == Some(true) && rest_excluded {
                after.group.standbys_excluded = true;
            }
        }
        after
    }

    fn call(&mut self, call: &Call, env: &Env, mut state: State) -> State {
        let name = call.target.name.as_str();
        let Some(callee) = self.procedures.get(name).copied() else {
            return havoc(state);
        };
        if self.call_stack.len() >= MAX_CALL_DEPTH
            || self.inline_budget == 0
            || self.call_stack.iter().any(|on| on == name)
        {
            return havoc(state);
        }
        let mut callee_env = Env::default();
        for param in &callee.params {
            let argument = call
                .args
                .iter()
                .find(|arg| arg.name.name == param.name.name);
            let value = match argument {
                Some(argument) => match self.eval(&argument.value, env) {
                    Value::Other => match self.server_arg(&argument.value, env, &mut state) {
                        Some(symbol) if param.ty == crate::syntax::ast::ParamType::Server => {
                            Value::Server(symbol)
                        }
                        _ => Value::Other,
                    },
                    value => value,
                },
                None => self.param_value(&param.name.name, &param.ty),
            };
            callee_env.bind(&param.name.name, value);
        }
        let outermost = self.call_span.is_none();
        if outermost {
            self.call_span = Some(call.span);
        }
        let silent = callee.kind == FileKind::Runbook;
        if silent {
            self.silent += 1;
        }
        self.call_stack.push(name.to_owned());
        let first_symbol = self.symbol_names.len();
        let mut end = self.block_in_place(&callee.body, &mut callee_env, state);
        end.servers.retain(|symbol, _| *symbol < first_symbol);
        self.call_stack.pop();
        if silent {
            self.silent -= 1;
        }
        if outermost {
            self.call_span = None;
        }
        end
    }

    /// Refines the state with `condition` being `truth`.
    fn assume(&mut self, condition: &Expr, truth: bool, env: &Env, mut state: State) -> State {
        if !state.reachable {
            return state;
        }
        match &condition.kind {
            ExprKind::Not(inner) => return self.assume(inner, !truth, env, state),
            ExprKind::Binary {
                op: BinaryOp::And,
                lhs,
                rhs,
                ..
            } if truth => {
                let state = self.assume(lhs, true, env, state);
                return self.assume(rhs, true, env, state);
            }
            ExprKind::Binary {
                op: BinaryOp::Or,
                lhs,
                rhs,
                ..
            } if !truth => {
                let state = self.assume(lhs, false, env, state);
                return self.assume(rhs, false, env, state);
            }
            ExprKind::Binary {
                op: BinaryOp::And | BinaryOp::Or,
                ..
            } => {
                if let Some(literals) = self.disjunction(condition, truth, env) {
                    apply_disjunction(&literals, &mut state);
                }
                return state;
            }
            ExprKind::Call { function, args } if args.is_empty() && truth => {
                if function.name == "healthy" {
                    self.assume_healthy(condition.span, &mut state);
                }
                return state;
            }
            ExprKind::Quantifier {
                quantifier: Quantifier::All,
                var,
                list,
                body,
            } if truth => {
                self.assume_all(var, list, body, env, &mut state);
                return state;
            }
            ExprKind::Binary {
                op: op @ (BinaryOp::Eq | BinaryOp::Ne),
                lhs,
                rhs,
                ..
            } => {
                // `count(actives() [without X]) == N`
                if let ExprKind::Call { function, args } = &lhs.kind {
                    let holds_equal = (*op == BinaryOp::Eq) == truth;
                    if function.name == "count" && args.len() == 1 && holds_equal {
                        self.assume_actives_count(&args[0], rhs, env, &mut state);
                        return state;
                    }
                }
            }
            _ => {}
        }
        if let Some((symbol, literal)) = self.literal(condition, truth, env) {
            apply_literal(symbol, literal, &mut state);
        }
        state
    }

    /// Refines the state with `healthy()` holding: the group is whole again.
    fn assume_healthy(&self, at: Span, state: &mut State) {
        for facts in state.servers.values_mut() {
            facts.running = Some(true);
            facts.excluded = Some(false);
            facts.detached_hint = false;
            facts.init_ready_hint = false;
        }
        state.group = GroupFacts {
            reattached_at: Some(self.report_span(at)),
            ..GroupFacts::default()
        };
        state.pending_demotion.clear();
    }

    /// Refines the state with `all VAR in LIST: BODY` holding.
    fn assume_all(&mut self, var: &Ident, list: &Expr, body: &Expr, env: &Env, state: &mut State) {
        let Value::List(list) = self.eval(list, env) else {
            return;
        };
        let element = self.new_symbol(&var.name);
        let mut scratch = State {
            reachable: true,
            ..State::default()
        };
        scratch
            .servers
            .insert(element, self.element_facts(&list, state));
        let mut inner = env.clone();
        inner.bind(&var.name, Value::Server(element));
        let scratch = self.assume(body, true, &inner, scratch);
        let facts = scratch.facts(element);
        if list.base == ListBase::Standbys {
            let rest_detached = list
                .minus
                .iter()
                .all(|symbol| state.facts(*symbol).is_detached());
            if facts.is_detached() && rest_detached {
                state.group.standbys_detached = true;
                state.group.reattached_at = None;
            }
            if facts.excluded == Some(true) && list.minus.is_empty() {
                state.group.standbys_excluded = true;
            }
        }
    }

    /// Refines the state with `count(LIST) == COUNT` holding, when LIST is
    /// `actives()` (maybe `without` some) and COUNT a number.
    fn assume_actives_count(&self, list: &Expr, count: &Expr, env: &Env, state: &mut State) {
        let (Value::List(list), ExprKind::Number(count)) = (self.eval(list, env), &count.kind)
        else {
            return;
        };
        if list.base != ListBase::Actives {
            return;
        }
        if *count == 0 {
            for (symbol, facts) in state.servers.iter_mut() {
                if !list.minus.contains(symbol) {
                    facts.mode = Some(Mode::Standby);
                }
            }
        }
        if *count <= 1 {
            let minus = list.minus.clone();
            state
                .pending_demotion
                .retain(|symbol, _| minus.contains(symbol) && *count == 0);
            if *count == 1 && minus.is_empty() {
                state.pending_demotion.clear();
            }
        }
    }

    /// `condition == truth` as a disjunction of literals, when it is one.
    fn disjunction(
        &self,
        condition: &Expr,
        truth: bool,
        env: &Env,
    ) -> Option<Vec<(SymbolId, Literal)>> {
        match &condition.kind {
            ExprKind::Not(inner) => self.disjunction(inner, !truth, env),
            ExprKind::Binary {
                op: BinaryOp::Or,
                lhs,
                rhs,
                ..
            } if truth => {
                let mut literals = self.disjunction(lhs, true, env)?;
                literals.extend(self.disjunction(rhs, true, env)?);
                Some(literals)
            }
            ExprKind::Binary {
                op: BinaryOp::And,
                lhs,
                rhs,
                ..
            } if !truth => {
                let mut literals = self.disjunction(lhs, false, env)?;
                literals.extend(self.disjunction(rhs, false, env)?);
                Some(literals)
            }
            _ => self
                .literal(condition, truth, env)
                .map(|literal| vec![literal]),
        }
    }

    /// `condition == truth` as one fact about one server, when it is one.
    fn literal(&self, condition: &Expr, truth: bool, env: &Env) -> Option<(SymbolId, Literal)> {
        match &condition.kind {
            ExprKind::Not(inner) => self.literal(inner, !truth, env),
            ExprKind::Field { target, field } => {
                let Value::Server(symbol) = self.eval(target, env) else {
                    return None;
                };
                let literal = match field.name.as_str() {
                    "running" => Literal::Running(truth),
                    "excluded" => Literal::Excluded(truth),
                    "is_active" => Literal::Active(truth),
                    "is_standby" => Literal::Active(!truth),
                    _ => return None,
                };
                Some((symbol, literal))
            }
            ExprKind::Binary {
                op: op @ (BinaryOp::Eq | BinaryOp::Ne),
                lhs,
                rhs,
                ..
            } => {
                let (ExprKind::Field { target, field }, ExprKind::State(code)) =
                    (&lhs.kind, &rhs.kind)
                else {
                    return None;
                };
                if field.name != "state" {
                    return None;
                }
                let Value::Server(symbol) = self.eval(target, env) else {
                    return None;
                };
                let equal = (*op == BinaryOp::Eq) == truth;
                Some((symbol, Literal::State(*code, equal)))
            }
            _ => None,
        }
    }
}

/// One known fact about one server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Literal {
    Running(bool),
    Excluded(bool),
    Active(bool),
    /// The state is (`true`) or is not (`false`) this code.
    State(ReplicationState, bool),
}

fn apply_literal(symbol: SymbolId, literal: Literal, state: &mut State) {
    let facts = state.facts_mut(symbol);
    match literal {
        Literal::Running(running) => {
            facts.running = Some(running);
            if !running {
                stop_pending(state, symbol);
            }
        }
        Literal::Excluded(excluded) => facts.excluded = Some(excluded),
        Literal::Active(active) => {
            facts.mode = Some(if active { Mode::Active } else { Mode::Standby });
            if !active {
                state.pending_demotion.remove(&symbol);
            }
        }
        Literal::State(code, true) => facts.state = Some(code),
        Literal::State(code, false) => {
            if facts.state == Some(code) {
                facts.state = None;
            }
        }
    }
}

/// A disjunction of literals: one literal is a fact; the two-literal forms
/// the domain cares about become the derived facts.
fn apply_disjunction(literals: &[(SymbolId, Literal)], state: &mut State) {
    if let [(symbol, literal)] = literals {
        apply_literal(*symbol, *literal, state);
        return;
    }
    let Some((first, _)) = literals.first() else {
        return;
    };
    if literals.iter().any(|(symbol, _)| symbol != first) {
        return;
    }
    let detaching =
        |literal: &Literal| matches!(literal, Literal::Running(false) | Literal::Excluded(true));
    let init_ready = |literal: &Literal| {
        matches!(
            literal,
            Literal::Excluded(true) | Literal::State(ReplicationState::StbNoRep, true)
        )
    };
    let facts = state.facts_mut(*first);
    if literals.iter().all(|(_, literal)| detaching(literal)) {
        facts.detached_hint = true;
    }
    if literals.iter().all(|(_, literal)| init_ready(literal)) {
        facts.init_ready_hint = true;
    }
}

/// The effect of an operation on what is known, as the cluster model defines it.
fn apply_operation(operation: &Operation, symbol: SymbolId, span: Span, state: &mut State) {
    match operation {
        Operation::Diagnostic { .. }
        | Operation::ReplicationStates { .. }
        | Operation::Backup { .. } => {}
        Operation::Exclude { .. } | Operation::StopReplication { .. } => {
            let facts = state.facts_mut(symbol);
            facts.excluded = Some(true);
        }
        Operation::InitStandby { .. } => {
            let facts = state.facts_mut(symbol);
            facts.excluded = Some(false);
            facts.running = Some(true);
            facts.state = None;
            facts.detached_hint = false;
            facts.init_ready_hint = false;
            state.group.reattach(span);
        }
        Operation::Activate { .. } => {
            for (other, facts) in state.servers.iter_mut() {
                if *other != symbol && facts.mode == Some(Mode::Active) {
                    facts.mode = Some(Mode::Standby);
                }
            }
            state.facts_mut(symbol).mode = Some(Mode::Active);
            state.pending_demotion.clear();
        }
        Operation::ForceActivate { .. } => {
            let others: Vec<SymbolId> = state
                .servers
                .iter()
                .filter(|(other, facts)| {
                    **other != symbol && facts.is_active() && facts.running != Some(false)
                })
                .map(|(other, _)| *other)
                .collect();
            for other in others {
                state.pending_demotion.entry(other).or_insert(Pending {
                    force_activation: span,
                    forced: symbol,
                    stopped: false,
                    restarted_at: None,
                });
            }
            state.pending_demotion.remove(&symbol);
            state.facts_mut(symbol).mode = Some(Mode::Active);
            state.force_activated = true;
        }
        Operation::SetStandby { .. } => {
            state.facts_mut(symbol).mode = Some(Mode::Standby);
            state.pending_demotion.remove(&symbol);
        }
        Operation::StopServer { .. } => {
            state.facts_mut(symbol).running = Some(false);
            stop_pending(state, symbol);
        }
        Operation::StartServer { .. } => {
            let facts = state.facts_mut(symbol);
            facts.running = Some(true);
            facts.detached_hint = false;
            let active = facts.is_active();
            if !active && !state.group.standbys_excluded {
                state.group.reattach(span);
            }
            restart_pending(state, symbol, span);
        }
        Operation::Upgrade { .. } => {
            // The installer starts the server again in its role; a Standby
            // comes back uninitialized (`STB_NO_REP`: the model drops its
            // database), so it may be initialized without an exclusion.
            let facts = state.facts_mut(symbol);
            facts.running = Some(true);
            facts.detached_hint = false;
            facts.state = (facts.mode == Some(Mode::Standby)).then_some(ReplicationState::StbNoRep);
            facts.init_ready_hint = facts.mode != Some(Mode::Active);
            restart_pending(state, symbol, span);
        }
        Operation::RestoreBackup { .. } => {
            for (other, facts) in state.servers.iter_mut() {
                if *other != symbol && facts.mode != Some(Mode::Active) {
                    facts.excluded = Some(true);
                }
            }
            state.group.standbys_excluded = true;
            state.group.standbys_detached = true;
            state.group.reattached_at = None;
        }
    }
}

/// `symbol` stopped: not Active while it stays so, still to be demoted.
fn stop_pending(state: &mut State, symbol: SymbolId) {
    if let Some(pending) = state.pending_demotion.get_mut(&symbol) {
        pending.stopped = true;
    }
}

/// `symbol` runs again (an upgrade, a start), in its role: a stopped
/// Active left beside a force-activated server is Active again.
fn restart_pending(state: &mut State, symbol: SymbolId, span: Span) {
    if let Some(pending) = state.pending_demotion.get_mut(&symbol) {
        if pending.stopped {
            pending.stopped = false;
            pending.restarted_at = Some(span);
        }
    }
}

/// After a call that cannot be followed: nothing is known any more.
fn havoc(state: State) -> State {
    State {
        reachable: state.reachable,
        servers: HashMap::new(),
        group: GroupFacts::default(),
        force_activated: state.force_activated,
        pending_demotion: BTreeMap::new(),
    }
}
