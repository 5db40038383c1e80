//! Printing to standard output without ever panicking: `std`'s `print!`
//! panics when the reader of a pipe has gone (`runbook check | head`), which
//! would end a command with a panic and, during `run`, abandon the cluster
//! mid-step. Here a closed stdout only stops the printing: the command goes
//! on and ends with its own exit code (a run keeps journaling).

use std::fmt;
use std::io::Write;

/// Writes `text` to stdout; errors (a closed pipe, a full disk behind a
/// redirection) drop the text instead of panicking.
pub fn write(text: fmt::Arguments<'_>) {
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_fmt(text).and_then(|()| stdout.flush());
}

/// `print!` that never panics (see the module docs).
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::cli::stdout::write(format_args!($($arg)*))
    };
}

/// `println!` that never panics (see the module docs).
macro_rules! outln {
    () => {
        $crate::cli::stdout::write(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::cli::stdout::write(format_args!("{}\n", format_args!($($arg)*)))
    };
}

pub(crate) use {out, outln};
