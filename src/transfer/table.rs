//! A catalog file as read, before any meaning is given to it: a header and rows of text cells,
//! each row with the line (CSV) or item (JSON) it came from, so every problem names its place.

use std::fmt;

/// The file's header and rows.
#[derive(Debug, Clone)]
pub struct RawTable {
    /// What a row's position is called in messages: `line` (CSV) or `item` (JSON).
    pub unit: &'static str,
    pub header_line: usize,
    pub header: Vec<String>,
    pub rows: Vec<RawRow>,
}

/// One row: its cells in header order.
#[derive(Debug, Clone)]
pub struct RawRow {
    pub line: usize,
    pub cells: Vec<String>,
    /// The row's bytes are not UTF-8 (CSV only); its cells are empty.
    pub bad_encoding: bool,
}

/// A problem with the file at one place.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{unit} {line}: {reason}")]
pub struct TableError {
    pub unit: &'static str,
    pub line: usize,
    pub reason: String,
}

impl TableError {
    pub fn at(line: usize, reason: impl Into<String>) -> Self {
        Self { unit: "line", line, reason: reason.into() }
    }
}

/// Every problem found in a file, in file order; nothing of the file was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidFile(pub Vec<TableError>);

impl fmt::Display for InvalidFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{} problem(s) in the file; nothing was imported:", self.0.len())?;
        for e in &self.0 {
            writeln!(f, "  {e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for InvalidFile {}
