//! The runbook lowered once into code units of instructions with jumps, so a
//! position in the program is a small `Hash + Eq` value (unit, program
//! counter) that the interpreter can journal and the verifier can memoize.
//! Calls hold their callee's file, What-ifs their index: nothing is looked
//! up by name while the program runs.

use crate::domain::OperationKind;
use crate::interp::program::Program;
use crate::semantics::prompt::{ChoiceOption, PromptKind};
use crate::syntax::ast::{self, Block, ExprKind, Stmt, StmtKind};
use crate::syntax::Span;

/// Index of an instruction in its unit.
pub type Pc = u32;
/// Index of a code unit (a file body or a What-if body).
pub type UnitId = u16;
/// Index of a step in [`Code::steps`].
pub type StepId = u16;
/// Index of a What-if handler in [`Code::handlers`].
pub type HandlerId = u16;
/// Index of a time window in [`Code::windows`].
pub type WindowId = u16;

/// One instruction of the small-step machine.
#[derive(Debug)]
pub enum Instr<'p> {
    /// `let NAME = EXPR`; `decision` unless the value is an operator's
    /// `select` (outside steps, a decision is journaled so a resumed run
    /// takes the same path).
    Let {
        /// The bound name.
        name: &'p ast::Ident,
        /// Its value.
        value: &'p ast::Expr,
        /// Whether the value is a decision (not a prompt).
        decision: bool,
    },
    /// A step begins: resume gate, window, events, the step context.
    StepBegin(StepId),
    /// The step's body ended normally.
    StepEnd(StepId),
    /// `note "TEXT"`.
    Note(&'p ast::Message),
    /// `warning "TEXT"`.
    Warning(&'p ast::Message),
    /// An operation on the cluster; `kind` is the operation its name names
    /// (`None`: none, which the resolver already refused).
    Operation {
        /// The call.
        call: &'p ast::OperationCall,
        /// The operation it names.
        kind: Option<OperationKind>,
    },
    /// `discards changes on EXPR` of a step, a `choose` option or a What-if,
    /// before the body it guards.
    DiscardsChanges {
        /// The server whose changes are lost.
        server: &'p ast::Expr,
        /// The confirmation's prompt id.
        prompt_id: String,
        /// What discards them, in words (`step `x``).
        subject: String,
    },
    /// `confirm ID "TEXT"`.
    Confirm {
        /// The prompt id.
        id: &'p ast::Ident,
        /// The question.
        text: &'p ast::StringLit,
        /// The statement.
        span: Span,
    },
    /// `choose`: jumps to the chosen option's code.
    Choose {
        /// The statement.
        choose: &'p ast::Choose,
        /// Where each option's code starts.
        targets: Vec<Pc>,
        /// The instruction after the statement, where every option ends.
        end: Pc,
    },
    /// `record ID "TEXT"`.
    Record {
        /// The prompt id.
        id: &'p ast::Ident,
        /// The question.
        text: &'p ast::StringLit,
        /// The statement.
        span: Span,
    },
    /// `check EXPR else "MESSAGE"`.
    Check {
        /// The condition.
        condition: &'p ast::Expr,
        /// The failure message.
        message: &'p ast::Message,
        /// The statement.
        span: Span,
    },
    /// `wait until EXPR [timeout] [every]`.
    Wait {
        /// The condition.
        condition: &'p ast::Expr,
        /// The limit.
        timeout: Option<&'p ast::Expr>,
        /// The polling interval.
        every: Option<&'p ast::Expr>,
        /// The statement.
        span: Span,
    },
    /// `if`/`else if`/`else`: the first condition that holds picks its
    /// target; `targets` has one more entry (the `else`, or the end).
    If {
        /// The statement.
        statement: &'p ast::If,
        /// The conditions, in order.
        conditions: Vec<&'p ast::Expr>,
        /// Where each branch starts, then the `else` branch (or the end).
        targets: Vec<Pc>,
        /// The instruction after the statement, where every branch ends.
        end: Pc,
        /// The statement.
        span: Span,
    },
    /// Unconditional jump.
    Jump(Pc),
    /// Opens a block scope.
    ScopePush,
    /// Closes a block scope.
    ScopePop,
    /// Evaluates a `for` list and starts the loop.
    ForStart {
        /// The list.
        list: &'p ast::Expr,
    },
    /// Binds the next element (in a new scope) or ends the loop at `end`.
    ForNext {
        /// The loop variable.
        var: &'p ast::Ident,
        /// The instruction after the loop.
        end: Pc,
    },
    /// The end of one loop iteration: closes the variable's scope, jumps to `head`.
    ForLoop {
        /// The loop's [`Instr::ForNext`].
        head: Pc,
    },
    /// `call NAME(...)`; `callee` is the called file (`None`: nothing of
    /// that name can be called, which the resolver already refused).
    Call {
        /// The statement.
        call: &'p ast::Call,
        /// The called file.
        callee: Option<usize>,
    },
    /// `stop "MESSAGE"`.
    Stop {
        /// The message.
        message: &'p ast::Message,
    },
    /// `pause "MESSAGE"` (in a What-if body).
    Pause {
        /// The message.
        message: &'p ast::Message,
    },
    /// `fail "MESSAGE"`.
    Fail {
        /// The message.
        message: &'p ast::Message,
        /// The statement.
        span: Span,
    },
    /// `retry`.
    Retry {
        /// The statement.
        span: Span,
    },
    /// `--what-if NAME`: runs the handler alone, as its own step.
    RunWhatIf(HandlerId),
    /// End of the unit.
    Return,
}

/// A sequence of instructions from one file.
#[derive(Debug)]
pub struct Unit<'p> {
    /// The file the instructions come from.
    pub file: usize,
    /// The instructions.
    pub code: Vec<Instr<'p>>,
}

/// A step and where its body lives.
#[derive(Debug)]
pub struct StepInfo<'p> {
    /// The step.
    pub step: &'p ast::Step,
    /// Its file.
    pub file: usize,
    /// First instruction of the body (what `retry` runs again), after the
    /// step's `discards changes on` clause.
    pub body_start: Pc,
    /// The instruction after the step (where a handled step continues).
    pub after_end: Pc,
    /// The window this step must respect.
    pub window: Option<WindowId>,
    /// The windows this step is the anchor of (`within D after THIS`).
    pub anchors: Vec<WindowId>,
}

/// `within D after ANCHOR` on a step.
#[derive(Debug)]
pub struct WindowInfo<'p> {
    /// The clause.
    pub clause: &'p ast::Window,
    /// The step it constrains.
    pub step: StepId,
}

/// A What-if handler.
#[derive(Debug)]
pub struct HandlerInfo<'p> {
    /// The handler.
    pub what_if: &'p ast::WhatIf,
    /// Its file.
    pub file: usize,
    /// Its index among the file's What-ifs.
    pub index: usize,
    /// Its body (after its `discards changes on` clause).
    pub unit: UnitId,
}

/// The whole program, lowered.
#[derive(Debug)]
pub struct Code<'p> {
    /// The program it was lowered from.
    pub program: &'p Program,
    /// Every unit.
    pub units: Vec<Unit<'p>>,
    /// The body unit of each file.
    pub file_units: Vec<UnitId>,
    /// Every step of every file.
    pub steps: Vec<StepInfo<'p>>,
    /// Every What-if of every file.
    pub handlers: Vec<HandlerInfo<'p>>,
    /// Every time window.
    pub windows: Vec<WindowInfo<'p>>,
    /// Per What-if of the main file, the unit that runs it alone
    /// (`--what-if NAME`): the main file's top-level `let`s, then the handler.
    pub run_what_if_units: Vec<UnitId>,
    /// The step ids `changes_since(SERVER, STEP_ID)` names: their starts
    /// are marked (each server's configuration revision then).
    pub marked_steps: Vec<String>,
}

impl<'p> Code<'p> {
    /// Lowers every file of `program` and every What-if body.
    pub fn new(program: &'p Program) -> Self {
        let mut code = Code {
            program,
            units: Vec::new(),
            file_units: Vec::new(),
            steps: Vec::new(),
            handlers: Vec::new(),
            windows: Vec::new(),
            run_what_if_units: Vec::new(),
            marked_steps: Vec::new(),
        };
        for source in &program.files {
            crate::syntax::visit::for_each_expr(&source.ast, |expr| {
                if let crate::syntax::ast::ExprKind::Call { function, args } = &expr.kind {
                    if let (
                        "changes_since",
                        [_, crate::syntax::ast::Expr {
                            kind: crate::syntax::ast::ExprKind::Var(step),
                            ..
                        }],
                    ) = (function.name.as_str(), args.as_slice())
                    {
                        if !code.marked_steps.contains(&step.name) {
                            code.marked_steps.push(step.name.clone());
                        }
                    }
                }
            });
        }
        for (file, source) in program.files.iter().enumerate() {
            let unit = code.unit(file, &source.ast.body, false, None);
            code.file_units.push(unit);
        }
        for (file, source) in program.files.iter().enumerate() {
            for (index, what_if) in source.ast.what_ifs.iter().enumerate() {
                let discards =
                    what_if
                        .discards_changes_on
                        .as_ref()
                        .map(|server| Instr::DiscardsChanges {
                            server,
                            prompt_id: discard_prompt_id(&what_if.id.name),
                            subject: format!("What-if `{}`", what_if.id.name),
                        });
                let unit = code.unit(file, &what_if.body.stmts, true, discards);
                code.handlers.push(HandlerInfo {
                    what_if,
                    file,
                    index,
                    unit,
                });
            }
        }
        for step in 0..code.steps.len() {
            let (file, window) = (code.steps[step].file, code.steps[step].step.window.as_ref());
            if let Some(clause) = window {
                let id = code.windows.len() as WindowId;
                code.windows.push(WindowInfo {
                    clause,
                    step: step as StepId,
                });
                code.steps[step].window = Some(id);
                for other in code.steps.iter_mut() {
                    if other.file == file && other.step.id.name == clause.after.name {
                        other.anchors.push(id);
                    }
                }
            }
        }
        let main = program.main;
        for handler in 0..code.handlers.len() {
            if code.handlers[handler].file != main {
                continue;
            }
            let lets = program.files[main]
                .ast
                .body
                .iter()
                .filter_map(|stmt| match &stmt.kind {
                    StmtKind::Let { name, value } => Some(Instr::Let {
                        name,
                        value,
                        decision: !matches!(value.kind, ExprKind::Select { .. }),
                    }),
                    _ => None,
                });
            let mut instrs: Vec<Instr<'p>> = lets.collect();
            instrs.push(Instr::RunWhatIf(handler as HandlerId));
            instrs.push(Instr::Return);
            let id = code.units.len() as UnitId;
            code.units.push(Unit {
                file: main,
                code: instrs,
            });
            code.run_what_if_units.push(id);
        }
        code
    }

    /// The file of a unit.
    pub fn unit_file(&self, unit: UnitId) -> usize {
        self.units[unit as usize].file
    }

    /// The instruction at `pc` of `unit`, if any.
    pub fn instr(&self, unit: UnitId, pc: Pc) -> Option<&Instr<'p>> {
        self.units[unit as usize].code.get(pc as usize)
    }

    /// The handler for What-if `index` of `file`.
    pub fn handler_id(&self, file: usize, index: usize) -> Option<HandlerId> {
        self.handlers
            .iter()
            .position(|handler| handler.file == file && handler.index == index)
            .map(|id| id as HandlerId)
    }

    /// Where the instruction at `pc` of `unit` is written.
    pub fn span(&self, unit: UnitId, pc: Pc) -> Span {
        match self.instr(unit, pc) {
            Some(Instr::Let { value, name, .. }) => name.span.to(value.span),
            Some(Instr::StepBegin(step) | Instr::StepEnd(step)) => {
                self.steps[*step as usize].step.span
            }
            Some(Instr::Operation { call, .. }) => call.span,
            Some(Instr::Call { call, .. }) => call.span,
            Some(Instr::Note(text) | Instr::Warning(text)) => text.span(),
            Some(
                Instr::Confirm { span, .. }
                | Instr::Record { span, .. }
                | Instr::Check { span, .. }
                | Instr::Wait { span, .. }
                | Instr::If { span, .. }
                | Instr::Fail { span, .. }
                | Instr::Retry { span },
            ) => *span,
            Some(Instr::Stop { message } | Instr::Pause { message }) => message.span(),
            Some(Instr::Choose { choose, .. }) => choose.span,
            Some(Instr::ForStart { list }) => list.span,
            Some(Instr::DiscardsChanges { server, .. }) => server.span,
            Some(Instr::RunWhatIf(handler)) => self.handlers[*handler as usize].what_if.span,
            _ => Span::default(),
        }
    }

    /// `prelude` runs first, inside the handler's scope (a What-if's
    /// `discards changes on`).
    fn unit(
        &mut self,
        file: usize,
        stmts: &'p [Stmt],
        is_handler: bool,
        prelude: Option<Instr<'p>>,
    ) -> UnitId {
        let id = self.units.len() as UnitId;
        self.units.push(Unit {
            file,
            code: Vec::new(),
        });
        let mut code = Vec::new();
        if is_handler {
            code.push(Instr::ScopePush);
        }
        code.extend(prelude);
        self.stmts(file, stmts, &mut code);
        if is_handler {
            code.push(Instr::ScopePop);
        }
        code.push(Instr::Return);
        self.units[id as usize].code = code;
        id
    }

    fn block(&mut self, file: usize, block: &'p Block, code: &mut Vec<Instr<'p>>) {
        code.push(Instr::ScopePush);
        self.stmts(file, &block.stmts, code);
        code.push(Instr::ScopePop);
    }

    fn stmts(&mut self, file: usize, stmts: &'p [Stmt], code: &mut Vec<Instr<'p>>) {
        for stmt in stmts {
            self.stmt(file, stmt, code);
        }
    }

    fn stmt(&mut self, file: usize, stmt: &'p Stmt, code: &mut Vec<Instr<'p>>) {
        let span = stmt.span;
        match &stmt.kind {
            StmtKind::Let { name, value } => code.push(Instr::Let {
                name,
                value,
                decision: !matches!(value.kind, ExprKind::Select { .. }),
            }),
            StmtKind::Step(step) => self.step(file, step, code),
            StmtKind::Note { text } => code.push(Instr::Note(text)),
            StmtKind::Warning { text } => code.push(Instr::Warning(text)),
            StmtKind::Operation(call) => code.push(Instr::Operation {
                call,
                kind: OperationKind::from_name(&call.name.name),
            }),
            StmtKind::Confirm { id, text } => code.push(Instr::Confirm { id, text, span }),
            StmtKind::Choose(choose) => self.choose(file, choose, code),
            StmtKind::Record { id, text } => code.push(Instr::Record { id, text, span }),
            StmtKind::Check { condition, message } => code.push(Instr::Check {
                condition,
                message,
                span,
            }),
            StmtKind::Wait {
                condition,
                timeout,
                every,
            } => code.push(Instr::Wait {
                condition,
                timeout: timeout.as_ref(),
                every: every.as_ref(),
                span,
            }),
            StmtKind::If(if_stmt) => self.if_stmt(file, if_stmt, span, code),
            StmtKind::For { var, list, body } => {
                code.push(Instr::ForStart { list });
                let head = here(code);
                code.push(Instr::Jump(0));
                self.block(file, body, code);
                code.push(Instr::ForLoop { head });
                code[head as usize] = Instr::ForNext {
                    var,
                    end: here(code),
                };
            }
            StmtKind::Call(call) => code.push(Instr::Call {
                call,
                callee: self.program.callee(file, &call.target.name),
            }),
            StmtKind::Stop { message } => code.push(Instr::Stop { message }),
            StmtKind::Pause { message } => code.push(Instr::Pause { message }),
            StmtKind::Fail { message } => code.push(Instr::Fail { message, span }),
            StmtKind::Retry => code.push(Instr::Retry { span }),
        }
    }

    fn step(&mut self, file: usize, step: &'p ast::Step, code: &mut Vec<Instr<'p>>) {
        let id = self.steps.len() as StepId;
        self.steps.push(StepInfo {
            step,
            file,
            body_start: 0,
            after_end: 0,
            window: None,
            anchors: Vec::new(),
        });
        code.push(Instr::StepBegin(id));
        if let Some(server) = &step.discards_changes_on {
            code.push(Instr::DiscardsChanges {
                server,
                prompt_id: discard_prompt_id(&step.id.name),
                subject: format!("step `{}`", step.id.name),
            });
        }
        self.steps[id as usize].body_start = here(code);
        self.block(file, &step.body, code);
        code.push(Instr::StepEnd(id));
        self.steps[id as usize].after_end = here(code);
    }

    fn choose(&mut self, file: usize, choose: &'p ast::Choose, code: &mut Vec<Instr<'p>>) {
        let at = code.len();
        code.push(Instr::Jump(0));
        let mut targets = Vec::new();
        let mut jumps = Vec::new();
        for option in &choose.options {
            targets.push(here(code));
            if let Some(server) = &option.discards_changes_on {
                code.push(Instr::DiscardsChanges {
                    server,
                    prompt_id: discard_prompt_id(&format!(
                        "{}.{}",
                        choose.id.name, option.name.name
                    )),
                    subject: format!("option `{}` of `{}`", option.name.name, choose.id.name),
                });
            }
            self.block(file, &option.body, code);
            jumps.push(code.len());
            code.push(Instr::Jump(0));
        }
        let end = here(code);
        for jump in jumps {
            code[jump] = Instr::Jump(end);
        }
        code[at] = Instr::Choose {
            choose,
            targets,
            end,
        };
    }

    fn if_stmt(
        &mut self,
        file: usize,
        if_stmt: &'p ast::If,
        span: Span,
        code: &mut Vec<Instr<'p>>,
    ) {
        let at = code.len();
        code.push(Instr::Jump(0));
        let mut targets = Vec::new();
        let mut jumps = Vec::new();
        for branch in &if_stmt.branches {
            targets.push(here(code));
            self.block(file, &branch.body, code);
            jumps.push(code.len());
            code.push(Instr::Jump(0));
        }
        targets.push(here(code));
        if let Some(otherwise) = &if_stmt.otherwise {
            self.block(file, otherwise, code);
        }
        let end = here(code);
        for jump in jumps {
            code[jump] = Instr::Jump(end);
        }
        code[at] = Instr::If {
            statement: if_stmt,
            end,
            conditions: if_stmt
                .branches
                .iter()
                .map(|branch| &branch.condition)
                .collect(),
            targets,
            span,
        };
    }
}

/// The prompt id of the confirmation a `discards changes on` clause asks:
/// `STEP.discard-changes`, `CHOICE.OPTION.discard-changes` or
/// `WHATIF.discard-changes` (`owner` is the step, `CHOICE.OPTION` or the
/// What-if).
pub fn discard_prompt_id(owner: &str) -> String {
    format!("{owner}.discard-changes")
}

impl Code<'_> {
    /// Every prompt id the program can ask (its answers-file keys):
    /// `confirm`, `record`, `choose` and `select` ids, and the confirmations
    /// of `discards changes on` clauses.
    pub fn prompt_ids(&self) -> std::collections::BTreeSet<String> {
        self.prompts().into_keys().collect()
    }

    /// Every prompt the program can ask, by id, with the kinds of answer it
    /// wants (one id may be asked by several files of a program). A
    /// `select`'s servers are known only when it is asked: its list is
    /// empty here.
    pub fn prompts(&self) -> std::collections::BTreeMap<String, Vec<PromptKind>> {
        let mut prompts: std::collections::BTreeMap<String, Vec<PromptKind>> =
            std::collections::BTreeMap::new();
        let mut add = |id: &str, kind: PromptKind| {
            let kinds = prompts.entry(id.to_string()).or_default();
            if !kinds.contains(&kind) {
                kinds.push(kind);
            }
        };
        for instr in self.units.iter().flat_map(|unit| &unit.code) {
            match instr {
                Instr::Confirm { id, .. } => add(&id.name, PromptKind::Confirm),
                Instr::Record { id, .. } => add(&id.name, PromptKind::Record),
                Instr::Choose { choose, .. } => add(
                    &choose.id.name,
                    PromptKind::Choose(
                        choose
                            .options
                            .iter()
                            .map(|option| ChoiceOption {
                                name: option.name.name.clone(),
                                label: option.label.value.clone(),
                                is_default: option.is_default,
                            })
                            .collect(),
                    ),
                ),
                Instr::DiscardsChanges { prompt_id, .. } => add(prompt_id, PromptKind::Confirm),
                _ => {}
            }
        }
        for file in &self.program.files {
            crate::syntax::visit::for_each_expr(&file.ast, |expr| {
                if let ExprKind::Select { id, .. } = &expr.kind {
                    add(&id.name, PromptKind::Select(Vec::new()));
                }
            });
        }
        prompts
    }
}

fn here(code: &[Instr<'_>]) -> Pc {
    code.len() as Pc
}
