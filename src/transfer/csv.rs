//! CSV as RFC 4180 writes it: comma-separated, fields with a comma, quote or line break in double
//! quotes, quotes doubled. Read from bytes, so a field that is not UTF-8 is refused with its line
//! instead of failing the whole file, and every record keeps the line it starts on.

use super::table::{RawRow, RawTable, TableError};

/// Reads `bytes` as a header line and records. A leading UTF-8 byte-order mark (spreadsheets
/// write one) is skipped; blank lines are skipped.
///
/// # Errors
/// A header that is missing or not UTF-8, or a quoted field left open at the end of the file.
/// Records whose fields are not UTF-8 come back as rows with [`RawRow::bad_encoding`] set, so
/// they are reported together with every other bad row.
pub fn read(bytes: &[u8]) -> Result<RawTable, TableError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut records = Records { bytes, at: 0, line: 1 };
    let (header_line, header) = loop {
        match records.next_record()? {
            None => return Err(TableError::at(1, "the file is empty: it needs a header line naming the columns")),
            Some((_, fields)) if fields.iter().all(Vec::is_empty) => {}
            Some((line, fields)) => break (line, fields),
        }
    };
    let header = header
        .into_iter()
        .map(|f| String::from_utf8(f).map(|s| s.trim().to_owned()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| TableError::at(header_line, "the header is not UTF-8; save the file as UTF-8"))?;
    let mut rows = Vec::new();
    while let Some((line, fields)) = records.next_record()? {
        if fields.iter().all(Vec::is_empty) {
            continue;
        }
        let cells: Result<Vec<String>, _> = fields.into_iter().map(String::from_utf8).collect();
        rows.push(match cells {
            Ok(cells) => RawRow { line, cells, bad_encoding: false },
            Err(_) => RawRow { line, cells: Vec::new(), bad_encoding: true },
        });
    }
    Ok(RawTable { unit: "line", header_line, header, rows })
}

/// One record's raw fields and the line it starts on.
type Record = (usize, Vec<Vec<u8>>);

/// A cursor over the records of a CSV text.
struct Records<'a> {
    bytes: &'a [u8],
    at: usize,
    /// The line `at` is on.
    line: usize,
}

impl Records<'_> {
    /// The next record and the line it starts on, or `None` at the end.
    fn next_record(&mut self) -> Result<Option<Record>, TableError> {
        if self.at >= self.bytes.len() {
            return Ok(None);
        }
        let start = self.line;
        let mut fields = Vec::new();
        let mut field = Vec::new();
        let mut quoted = false;
        let mut was_quoted = false;
        while let Some(&b) = self.bytes.get(self.at) {
            self.at += 1;
            if quoted {
                match b {
                    b'"' if self.bytes.get(self.at) == Some(&b'"') => {
                        self.at += 1;
                        field.push(b'"');
                    }
                    b'"' => quoted = false,
                    b'\n' => {
                        self.line += 1;
                        field.push(b);
                    }
                    _ => field.push(b),
                }
                continue;
            }
            match b {
                b'"' if field.is_empty() && !was_quoted => {
                    quoted = true;
                    was_quoted = true;
                }
                b',' => {
                    fields.push(std::mem::take(&mut field));
                    was_quoted = false;
                }
                b'\r' if self.bytes.get(self.at) == Some(&b'\n') => {}
                b'\n' => {
                    self.line += 1;
                    fields.push(field);
                    return Ok(Some((start, fields)));
                }
                _ => field.push(b),
            }
        }
        if quoted {
            return Err(TableError::at(start, "a quoted field is never closed (a `\"` is missing)"));
        }
        fields.push(field);
        Ok(Some((start, fields)))
    }
}

/// One CSV line (with its line break) of `fields`, quoted where they need it.
pub fn write_record(out: &mut String, fields: &[String]) {
    for (i, field) in fields.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        if field.contains([',', '"', '\n', '\r']) || field.starts_with(' ') || field.ends_with(' ') {
            out.push('"');
            out.push_str(&field.replace('"', "\"\""));
            out.push('"');
        } else {
            out.push_str(field);
        }
    }
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_fields_keep_commas_quotes_and_line_breaks_and_lines_are_counted() {
        let table = read(b"a,b\r\n1,\"x, \"\"y\"\"\nz\"\n\n2,3\n").expect("a table");
        assert_eq!(table.header, ["a", "b"]);
        assert_eq!(table.rows[0].cells, ["1", "x, \"y\"\nz"]);
        assert_eq!(table.rows[0].line, 2);
        assert_eq!((table.rows[1].line, table.rows[1].cells.clone()), (5, vec!["2".to_owned(), "3".to_owned()]));
    }

    #[test]
    fn a_record_that_is_not_utf8_is_marked_with_its_line() {
        let table = read(b"a\nok\n\xff\xfe\n").expect("a table");
        assert!(!table.rows[0].bad_encoding);
        assert!(table.rows[1].bad_encoding && table.rows[1].line == 3);
    }

    #[test]
    fn what_is_written_reads_back_the_same() {
        let fields = vec!["plain".to_owned(), "a, b".to_owned(), "say \"hi\"".to_owned(), "two\nlines".to_owned()];
        let mut text = "h1,h2,h3,h4\n".to_owned();
        write_record(&mut text, &fields);
        assert_eq!(read(text.as_bytes()).expect("a table").rows[0].cells, fields);
    }
}
