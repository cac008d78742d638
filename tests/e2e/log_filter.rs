//! A small evaluator of CloudWatch Logs JSON filter patterns, the subset `infra/template.yaml` uses,
//! so that tests can run a metric filter over log lines the functions really write.
//!
//! Supported: `{ SELECTOR OP VALUE }` terms joined by `&&` and `||` (`&&` binding tighter) and
//! grouped by parentheses; selectors `$.a.b` and `$.a[0]`; strings (quoted, or bare words, with
//! `*` as a wildcard) compared by `=` and `!=`; integers compared by `=`, `!=`, `<`, `<=`, `>`,
//! `>=`. Comparisons are typed as CloudWatch's are: a string matches only a string field, a
//! number only a number field. Anything else is an error, never a silent non-match: a filter this
//! evaluator cannot read fails the test that uses it. A line that is not a JSON object matches no
//! JSON pattern, as in CloudWatch.

use serde_json::Value;

/// Whether `line` matches `pattern`.
///
/// # Errors
/// The pattern is not a JSON filter pattern, or uses syntax outside the subset above.
pub fn matches(pattern: &str, line: &str) -> Result<bool, String> {
    let expr = parse(pattern)?;
    let Ok(event @ Value::Object(_)) = serde_json::from_str::<Value>(line.trim()) else { return Ok(false) };
    Ok(expr.eval(&event))
}

#[derive(Debug)]
enum Expr {
    Or(Box<Expr>, Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Compare { path: Vec<Step>, op: Op, value: Literal },
}

#[derive(Debug)]
enum Step {
    Key(String),
    Index(usize),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug)]
enum Literal {
    Text(String),
    Integer(i64),
}

impl Expr {
    fn eval(&self, event: &Value) -> bool {
        match self {
            Self::Or(a, b) => a.eval(event) || b.eval(event),
            Self::And(a, b) => a.eval(event) && b.eval(event),
            Self::Compare { path, op, value } => {
                let Some(field) = select(event, path) else { return false };
                match (value, field) {
                    (Literal::Text(want), Value::String(have)) => match op {
                        Op::Eq => glob(want, have),
                        Op::Ne => !glob(want, have),
                        _ => false,
                    },
                    (Literal::Integer(want), Value::Number(have)) => {
                        let Some(have) = have.as_i64() else { return false };
                        match op {
                            Op::Eq => have == *want,
                            Op::Ne => have != *want,
                            Op::Lt => have < *want,
                            Op::Le => have <= *want,
                            Op::Gt => have > *want,
                            Op::Ge => have >= *want,
                        }
                    }
                    _ => false,
                }
            }
        }
    }
}

fn select<'a>(event: &'a Value, path: &[Step]) -> Option<&'a Value> {
    path.iter().try_fold(event, |value, step| match step {
        Step::Key(key) => value.get(key),
        Step::Index(i) => value.get(i),
    })
}

/// `*` matches any run of characters; everything else itself.
fn glob(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !text.starts_with(first) || !text[first.len()..].ends_with(last) {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    for middle in &parts[1..parts.len() - 1] {
        match rest.find(middle) {
            Some(at) => rest = &rest[at + middle.len()..],
            None => return false,
        }
    }
    true
}

fn parse(pattern: &str) -> Result<Expr, String> {
    let inner = pattern
        .trim()
        .strip_prefix('{')
        .and_then(|p| p.strip_suffix('}'))
        .ok_or_else(|| format!("`{pattern}` is not a JSON filter pattern ({{ … }})"))?;
    let tokens = tokenize(inner)?;
    let mut parser = Parser { tokens, at: 0, pattern };
    let expr = parser.or()?;
    match parser.tokens.get(parser.at) {
        None => Ok(expr),
        Some(token) => Err(format!("`{pattern}`: unexpected {token:?}")),
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Selector(String),
    Op(Op),
    Quoted(String),
    Word(String),
    And,
    Or,
    Open,
    Close,
}

fn tokenize(text: &str) -> Result<Vec<Token>, String> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        match c {
            _ if c.is_whitespace() => i += 1,
            '(' => {
                tokens.push(Token::Open);
                i += 1;
            }
            ')' => {
                tokens.push(Token::Close);
                i += 1;
            }
            '&' if next == Some('&') => {
                tokens.push(Token::And);
                i += 2;
            }
            '|' if next == Some('|') => {
                tokens.push(Token::Or);
                i += 2;
            }
            '=' => {
                tokens.push(Token::Op(Op::Eq));
                i += 1;
            }
            '!' if next == Some('=') => {
                tokens.push(Token::Op(Op::Ne));
                i += 2;
            }
            '<' | '>' => {
                let op = match (c, next) {
                    ('<', Some('=')) => Op::Le,
                    ('<', _) => Op::Lt,
                    ('>', Some('=')) => Op::Ge,
                    _ => Op::Gt,
                };
                tokens.push(Token::Op(op));
                i += if matches!(op, Op::Le | Op::Ge) { 2 } else { 1 };
            }
            '"' => {
                let mut text = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => return Err("an unterminated string".into()),
                        Some('"') => break,
                        Some('\\') => {
                            text.push(*chars.get(i + 1).ok_or("a dangling escape")?);
                            i += 2;
                        }
                        Some(c) => {
                            text.push(*c);
                            i += 1;
                        }
                    }
                }
                tokens.push(Token::Quoted(text));
                i += 1;
            }
            _ => {
                let start = i;
                while i < chars.len() && !chars[i].is_whitespace() && !"()=!<>&|\"".contains(chars[i]) {
                    i += 1;
                }
                if start == i {
                    return Err(format!("unexpected `{c}`"));
                }
                let word: String = chars[start..i].iter().collect();
                tokens.push(if word.starts_with('$') { Token::Selector(word) } else { Token::Word(word) });
            }
        }
    }
    Ok(tokens)
}

struct Parser<'a> {
    tokens: Vec<Token>,
    at: usize,
    pattern: &'a str,
}

impl Parser<'_> {
    fn next(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.at).cloned();
        self.at += 1;
        token
    }

    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn or(&mut self) -> Result<Expr, String> {
        let mut expr = self.and()?;
        while self.peek() == Some(&Token::Or) {
            self.at += 1;
            expr = Expr::Or(Box::new(expr), Box::new(self.and()?));
        }
        Ok(expr)
    }

    fn and(&mut self) -> Result<Expr, String> {
        let mut expr = self.term()?;
        while self.peek() == Some(&Token::And) {
            self.at += 1;
            expr = Expr::And(Box::new(expr), Box::new(self.term()?));
        }
        Ok(expr)
    }

    fn term(&mut self) -> Result<Expr, String> {
        let pattern = self.pattern;
        match self.next() {
            Some(Token::Open) => {
                let expr = self.or()?;
                match self.next() {
                    Some(Token::Close) => Ok(expr),
                    other => Err(format!("`{pattern}`: expected `)`, found {other:?}")),
                }
            }
            Some(Token::Selector(selector)) => {
                let path = selector_path(&selector).map_err(|e| format!("`{pattern}`: {e}"))?;
                let Some(Token::Op(op)) = self.next() else {
                    return Err(format!("`{pattern}`: {selector} needs a comparison (IS, EXISTS: not supported here)"));
                };
                let value = match self.next() {
                    Some(Token::Quoted(text)) => Literal::Text(text),
                    Some(Token::Word(word)) => match word.parse::<i64>() {
                        Ok(n) => Literal::Integer(n),
                        Err(_) if word.chars().any(|c| c.is_ascii_digit()) && word.parse::<f64>().is_ok() => {
                            return Err(format!("`{pattern}`: decimal {word} is not supported here"));
                        }
                        Err(_) => Literal::Text(word),
                    },
                    other => return Err(format!("`{pattern}`: expected a value after {selector}, found {other:?}")),
                };
                if matches!(value, Literal::Text(_)) && !matches!(op, Op::Eq | Op::Ne) {
                    return Err(format!("`{pattern}`: strings compare with = and != only"));
                }
                Ok(Expr::Compare { path, op, value })
            }
            other => Err(format!("`{pattern}`: expected a selector or `(`, found {other:?}")),
        }
    }
}

/// `$.a.b[0]` → `a`, `b`, `0`.
fn selector_path(selector: &str) -> Result<Vec<Step>, String> {
    let rest = selector.strip_prefix("$.").ok_or_else(|| format!("selector {selector} must start with `$.`"))?;
    let mut steps = Vec::new();
    for part in rest.split('.') {
        let (key, mut indexes) = match part.find('[') {
            Some(at) => (&part[..at], &part[at..]),
            None => (part, ""),
        };
        if key.is_empty() && indexes.is_empty() {
            return Err(format!("selector {selector} has an empty step"));
        }
        if !key.is_empty() {
            steps.push(Step::Key(key.to_owned()));
        }
        while let Some(open) = indexes.strip_prefix('[') {
            let close = open.find(']').ok_or_else(|| format!("selector {selector}: unclosed ["))?;
            let index = open[..close].parse().map_err(|_| format!("selector {selector}: [{}]", &open[..close]))?;
            steps.push(Step::Index(index));
            indexes = &open[close + 1..];
        }
        if !indexes.is_empty() {
            return Err(format!("selector {selector}: unexpected {indexes}"));
        }
    }
    Ok(steps)
}

#[test]
fn the_evaluator_reads_patterns_as_cloudwatch_does() {
    let line =
        r#"{"level":"INFO","fields":{"message":"request handled","status":503},"tags":["a","b"],"status":"429"}"#;
    let check = |pattern: &str, expected: bool| {
        assert_eq!(matches(pattern, line), Ok(expected), "{pattern}");
    };
    check("{ $.fields.status >= 500 }", true);
    check("{ $.fields.status < 500 }", false);
    check("{ $.fields.status = 503 && $.level = \"INFO\" }", true);
    check("{ $.fields.status = 503 && $.level = \"ERROR\" }", false);
    check("{ $.level = \"ERROR\" || ($.fields.status != 200 && $.tags[1] = b) }", true);
    check("{ $.fields.message = \"request*\" }", true);
    check("{ $.fields.message = \"*handled\" }", true);
    check("{ $.fields.message = \"*nope*\" }", false);
    // Typed: a string field never equals a number, nor a number field a string.
    check("{ $.status = \"429\" }", true);
    check("{ $.status = 429 }", false);
    check("{ $.fields.status = \"503\" }", false);
    // A field that is not there, and a line that is not JSON, match nothing.
    check("{ $.missing.status >= 500 }", false);
    assert_eq!(matches("{ $.fields.status >= 500 }", "START RequestId: 1 Version: $LATEST"), Ok(false));
    // What it cannot read is an error, not a quiet "no".
    for unreadable in
        ["$.fields.status >= 500", "{ $.fields.status IS NULL }", "{ fields.status = 1 }", "{ $.a = 1.5 }"]
    {
        assert!(matches(unreadable, line).is_err(), "{unreadable}");
    }
}
