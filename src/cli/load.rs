//! Loading a RUNBOOK argument (a path or a shipped name) into a [`Program`]
//! the interpreter runs: parse, resolve imports, report errors.

use crate::interp::program::Program;

/// Why a runbook could not be loaded.
#[derive(Debug)]
pub struct LoadFailure {
    /// The diagnostics, ready to print.
    pub report: miette::Report,
    /// 2 when the file could not be read, 1 when it has errors.
    pub exit_code: i32,
}

impl LoadFailure {
    /// A one-line message (for the `run_finished` event).
    pub fn message(&self) -> String {
        self.report.to_string()
    }

    /// Prints the diagnostics; returns the exit code.
    pub fn print(self) -> i32 {
        eprintln!("{:?}", self.report);
        self.exit_code
    }
}

/// Loads `reference`: a path to a `.runbook` file or a shipped runbook's name.
pub fn load_program(reference: &str) -> Result<Program, LoadFailure> {
    crate::interp::load::load_runbook(reference).map_err(|error| {
        let exit_code = if error.unreadable { 2 } else { 1 };
        let mut reports = error.reports.into_iter();
        let report = reports
            .next()
            .unwrap_or_else(|| miette::miette!("cannot load `{reference}`"));
        for other in reports {
            eprintln!("{other:?}");
        }
        LoadFailure { report, exit_code }
    })
}
