//! Progress of a long import or export, on stderr: a bar redrawn in place on a terminal, and a
//! plain line every tenth of the way otherwise (CI logs, redirects), so logs stay readable.

use std::io::{IsTerminal, Write};
use std::sync::Mutex;

/// Counts done items out of a total and shows it; safe to share between concurrent tasks.
#[derive(Debug)]
pub struct Progress {
    label: &'static str,
    total: usize,
    style: Style,
    done: Mutex<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Style {
    Hidden,
    Bar,
    Lines,
}

/// The bar's width in characters.
const WIDTH: usize = 30;

impl Progress {
    /// Progress on stderr: a bar if stderr is a terminal, plain lines if not.
    pub fn on_stderr(label: &'static str, total: usize) -> Self {
        let style = if std::io::stderr().is_terminal() { Style::Bar } else { Style::Lines };
        Self { label, total, style, done: Mutex::new(0) }
    }

    /// Progress nobody sees (tests, library callers).
    pub fn hidden(label: &'static str, total: usize) -> Self {
        Self { label, total, style: Style::Hidden, done: Mutex::new(0) }
    }

    /// One more item done.
    pub fn advance(&self) {
        let mut done = self.done.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        *done += 1;
        let (done, total) = (*done, self.total.max(1));
        let mut err = std::io::stderr().lock();
        // Progress is best effort: a closed stderr must not fail the import.
        let _ = match self.style {
            Style::Hidden => Ok(()),
            Style::Bar => {
                let filled = done * WIDTH / total;
                write!(err, "\r{} [{}{}] {done}/{total}", self.label, "#".repeat(filled), " ".repeat(WIDTH - filled))
                    .and_then(|()| if done == total { writeln!(err) } else { err.flush() })
            }
            Style::Lines if done == total || done % (total / 10).max(1) == 0 => {
                writeln!(err, "{} {done}/{total}", self.label)
            }
            Style::Lines => Ok(()),
        };
    }
}
