//! The runbook flattened into code units of instructions with jumps, so a
//! position in the program is a small `Hash + Eq` value (unit, program
//! counter) and the verifier's continuation can be memoized.

use crate::interp::program::Program;
use crate::syntax::ast::{self, Block, Stmt, StmtKind};
use crate::syntax::Span;

/// Index of an instruction in its unit.
pub(crate) type Pc = u32;
/// Index of a code unit (a file body or a What-if body).
pub(crate) type UnitId = u16;
/// Index of a step in [`Compiled::steps`].
pub(crate) type StepId = u16;
/// Index of a What-if handler in [`Compiled::handlers`].
pub(crate) type HandlerId = u16;

/// One instruction of the small-step machine.
#[derive(Debug)]
pub(crate) enum Instr<'p> {
    /// `let NAME = EXPR`.
    Let {
        name: &'p ast::Ident,
        value: &'p ast::Expr,
    },
    /// A step begins (window check, discarded changes, step context).
    StepBegin(StepId),
    /// The step's body ended normally.
    StepEnd(StepId),
    /// An operation on the cluster.
    Operation(&'p ast::OperationCall),
    /// `discards changes on EXPR` of a `choose` option or a What-if, before
    /// its body (a step's clause is part of [`Instr::StepBegin`]).
    DiscardsChanges {
        server: &'p ast::Expr,
        prompt_id: String,
    },
    /// `confirm ID "TEXT"`.
    Confirm { id: &'p ast::Ident, span: Span },
    /// `choose`: jumps to the chosen option's code.
    Choose {
        choose: &'p ast::Choose,
        targets: Vec<Pc>,
    },
    /// `record ID "TEXT"`.
    Record { id: &'p ast::Ident, span: Span },
    /// `check EXPR else "MESSAGE"`.
    Check {
        condition: &'p ast::Expr,
        message: &'p ast::StringLit,
        span: Span,
    },
    /// `wait until EXPR [timeout] [every]`.
    Wait {
        condition: &'p ast::Expr,
        timeout: Option<&'p ast::Expr>,
        every: Option<&'p ast::Expr>,
        span: Span,
    },
    /// Jumps to `target` unless the condition holds.
    BranchUnless {
        condition: &'p ast::Expr,
        target: Pc,
    },
    /// Unconditional jump.
    Jump(Pc),
    /// Opens a block scope.
    ScopePush,
    /// Closes a block scope.
    ScopePop,
    /// Evaluates a `for` list and starts the loop.
    ForStart { list: &'p ast::Expr },
    /// Binds the next element (in a new scope) or ends the loop at `end`.
    ForNext { var: &'p ast::Ident, end: Pc },
    /// The end of one loop iteration: closes the variable's scope, jumps to `head`.
    ForLoop { head: Pc },
    /// `call NAME(...)`.
    Call(&'p ast::Call),
    /// `stop "MESSAGE"`.
    Stop {
        message: &'p ast::StringLit,
        span: Span,
    },
    /// `fail "MESSAGE"`.
    Fail {
        message: &'p ast::StringLit,
        span: Span,
    },
    /// `retry`.
    Retry { span: Span },
    /// End of the unit.
    Return,
}

/// A sequence of instructions from one file.
#[derive(Debug)]
pub(crate) struct Unit<'p> {
    pub file: usize,
    pub code: Vec<Instr<'p>>,
}

/// A step and where its body lives.
#[derive(Debug)]
pub(crate) struct StepInfo<'p> {
    pub step: &'p ast::Step,
    pub file: usize,
    /// First instruction of the body (what `retry` runs again).
    pub body_start: Pc,
    /// The instruction after the step (where a handled step continues).
    pub after_end: Pc,
    /// The window this step must respect, as an index in [`Compiled::windows`].
    pub window: Option<usize>,
    /// The windows this step is the anchor of (`within D after THIS`).
    pub anchors: Vec<usize>,
}

/// `within D after ANCHOR` on step `step`.
#[derive(Debug)]
pub(crate) struct WindowInfo<'p> {
    pub clause: &'p ast::Window,
}

/// A What-if handler.
#[derive(Debug)]
pub(crate) struct HandlerInfo<'p> {
    pub what_if: &'p ast::WhatIf,
    pub file: usize,
    pub unit: UnitId,
}

/// The whole program, compiled.
#[derive(Debug)]
pub(crate) struct Compiled<'p> {
    pub program: &'p Program,
    pub units: Vec<Unit<'p>>,
    /// The body unit of each file.
    pub file_units: Vec<UnitId>,
    pub steps: Vec<StepInfo<'p>>,
    pub handlers: Vec<HandlerInfo<'p>>,
    pub windows: Vec<WindowInfo<'p>>,
}

impl<'p> Compiled<'p> {
    /// Compiles every file of `program` and every What-if body.
    pub fn new(program: &'p Program) -> Self {
        let mut compiled = Compiled {
            program,
            units: Vec::new(),
            file_units: Vec::new(),
            steps: Vec::new(),
            handlers: Vec::new(),
            windows: Vec::new(),
        };
        for (file, source) in program.files.iter().enumerate() {
            let unit = compiled.compile_unit(file, &source.ast.body, false, None);
            compiled.file_units.push(unit);
        }
        for (file, source) in program.files.iter().enumerate() {
            for what_if in &source.ast.what_ifs {
                let discards =
                    what_if
                        .discards_changes_on
                        .as_ref()
                        .map(|server| Instr::DiscardsChanges {
                            server,
                            prompt_id: format!("{}.discard-changes", what_if.id.name),
                        });
                let unit = compiled.compile_unit(file, &what_if.body.stmts, true, discards);
                compiled.handlers.push(HandlerInfo {
                    what_if,
                    file,
                    unit,
                });
            }
        }
        for index in 0..compiled.steps.len() {
            let (file, window) = (
                compiled.steps[index].file,
                compiled.steps[index].step.window.as_ref(),
            );
            if let Some(clause) = window {
                let anchor = clause.after.name.clone();
                let position = compiled.windows.len();
                compiled.windows.push(WindowInfo { clause });
                compiled.steps[index].window = Some(position);
                for other in compiled.steps.iter_mut() {
                    if other.file == file && other.step.id.name == anchor {
                        other.anchors.push(position);
                    }
                }
            }
        }
        compiled
    }

    /// The file of a unit.
    pub fn unit_file(&self, unit: UnitId) -> usize {
        self.units[unit as usize].file
    }

    /// `prelude` runs first, inside the handler's scope (a What-if's
    /// `discards changes on`).
    fn compile_unit(
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
        let here = |code: &Vec<Instr<'p>>| code.len() as Pc;
        match &stmt.kind {
            StmtKind::Let { name, value } => code.push(Instr::Let { name, value }),
            StmtKind::Step(step) => {
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
                self.steps[id as usize].body_start = here(code);
                self.block(file, &step.body, code);
                code.push(Instr::StepEnd(id));
                self.steps[id as usize].after_end = here(code);
            }
            StmtKind::Note { .. } | StmtKind::Warning { .. } => {}
            StmtKind::Operation(call) => code.push(Instr::Operation(call)),
            StmtKind::Confirm { id, .. } => code.push(Instr::Confirm {
                id,
                span: stmt.span,
            }),
            StmtKind::Choose(choose) => {
                let at = code.len();
                code.push(Instr::Choose {
                    choose,
                    targets: Vec::new(),
                });
                let mut targets = Vec::new();
                let mut jumps = Vec::new();
                for option in &choose.options {
                    targets.push(here(code));
                    if let Some(server) = &option.discards_changes_on {
                        code.push(Instr::DiscardsChanges {
                            server,
                            prompt_id: format!(
                                "{}.{}.discard-changes",
                                choose.id.name, option.name.name
                            ),
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
                code[at] = Instr::Choose { choose, targets };
            }
            StmtKind::Record { id, .. } => code.push(Instr::Record {
                id,
                span: stmt.span,
            }),
            StmtKind::Check { condition, message } => code.push(Instr::Check {
                condition,
                message,
                span: stmt.span,
            }),
            StmtKind::Wait {
                condition,
                timeout,
                every,
            } => code.push(Instr::Wait {
                condition,
                timeout: timeout.as_ref(),
                every: every.as_ref(),
                span: stmt.span,
            }),
            StmtKind::If(if_stmt) => {
                let mut end_jumps = Vec::new();
                for branch in &if_stmt.branches {
                    let test = code.len();
                    code.push(Instr::Jump(0));
                    self.block(file, &branch.body, code);
                    end_jumps.push(code.len());
                    code.push(Instr::Jump(0));
                    code[test] = Instr::BranchUnless {
                        condition: &branch.condition,
                        target: here(code),
                    };
                }
                if let Some(otherwise) = &if_stmt.otherwise {
                    self.block(file, otherwise, code);
                }
                let end = here(code);
                for jump in end_jumps {
                    code[jump] = Instr::Jump(end);
                }
            }
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
            StmtKind::Call(call) => code.push(Instr::Call(call)),
            StmtKind::Stop { message } => code.push(Instr::Stop {
                message,
                span: stmt.span,
            }),
            StmtKind::Fail { message } => code.push(Instr::Fail {
                message,
                span: stmt.span,
            }),
            StmtKind::Retry => code.push(Instr::Retry { span: stmt.span }),
        }
    }
}
