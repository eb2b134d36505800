//! The GraphQL document: tokens with their positions, and a parser for
//! operations, fields (aliases, arguments, directives skipped), inline and
//! named fragments, and input values (variables, literals, enums, lists,
//! objects).

use serde_json::{Value, json};

/// A token of the document, with where it starts (1-based line, column).
#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Punct(char),
    Spread,
    Name(String),
    Str(String),
    Num(String),
}

#[derive(Debug, Clone)]
struct Lexeme {
    tok: Tok,
    line: usize,
    column: usize,
}

fn lex(text: &str) -> Result<Vec<Lexeme>, (String, usize, usize)> {
    let chars: Vec<char> = text.chars().collect();
    let (mut i, mut line, mut column) = (0, 1, 1);
    let mut out = Vec::new();
    while i < chars.len() {
        let c = chars[i];
        let at = (line, column);
        let push = |out: &mut Vec<Lexeme>, tok| {
            out.push(Lexeme {
                tok,
                line: at.0,
                column: at.1,
            });
        };
        match c {
            '\n' => {
                line += 1;
                column = 1;
                i += 1;
                continue;
            }
            ' ' | '\t' | '\r' | ',' | '\u{feff}' => {}
            '#' => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
                continue;
            }
            '.' if chars.get(i..i + 3) == Some(&['.', '.', '.']) => {
                push(&mut out, Tok::Spread);
                i += 3;
                column += 3;
                continue;
            }
            '{' | '}' | '(' | ')' | '[' | ']' | ':' | '$' | '!' | '=' | '@' | '|' | '&' => {
                push(&mut out, Tok::Punct(c));
            }
            '"' => {
                let mut value = String::new();
                i += 1;
                column += 1;
                loop {
                    match chars.get(i) {
                        None | Some('\n') => {
                            return Err(("Unterminated string".into(), at.0, at.1));
                        }
                        Some('"') => break,
                        Some('\\') => {
                            let escaped = chars.get(i + 1).copied().unwrap_or('\\');
                            value.push(match escaped {
                                'n' => '\n',
                                't' => '\t',
                                'r' => '\r',
                                other => other,
                            });
                            i += 2;
                            column += 2;
                        }
                        Some(other) => {
                            value.push(*other);
                            i += 1;
                            column += 1;
                        }
                    }
                }
                push(&mut out, Tok::Str(value));
            }
            c if c.is_ascii_alphabetic() || c == '_' => {
                let start = i;
                while chars
                    .get(i)
                    .is_some_and(|c| c.is_ascii_alphanumeric() || *c == '_')
                {
                    i += 1;
                }
                column += i - start;
                push(&mut out, Tok::Name(chars[start..i].iter().collect()));
                continue;
            }
            c if c.is_ascii_digit() || c == '-' => {
                let start = i;
                i += 1;
                while chars
                    .get(i)
                    .is_some_and(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '+' | '-'))
                {
                    i += 1;
                }
                column += i - start;
                push(&mut out, Tok::Num(chars[start..i].iter().collect()));
                continue;
            }
            other => return Err((format!("Parse error on \"{other}\""), at.0, at.1)),
        }
        i += 1;
        column += 1;
    }
    Ok(out)
}

/// An argument's value, before variables are put in.
#[derive(Debug, Clone)]
pub(super) enum Input {
    Var(String),
    Literal(Value),
    /// An enum value: a bare name.
    Enum(String),
    List(Vec<Self>),
    Object(Vec<(String, Self)>),
}

/// A selected field.
#[derive(Debug, Clone)]
pub(super) struct Field {
    pub(super) alias: Option<String>,
    pub(super) name: String,
    pub(super) args: Vec<(String, Input)>,
    pub(super) selection: Vec<Selection>,
    pub(super) line: usize,
    pub(super) column: usize,
}

impl Field {
    pub(super) fn key(&self) -> &str {
        self.alias.as_deref().unwrap_or(&self.name)
    }

    pub(super) fn arg(&self, name: &str) -> Option<&Input> {
        self.args.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    pub(super) fn location(&self) -> Value {
        json!([{"line": self.line, "column": self.column}])
    }
}

#[derive(Debug, Clone)]
pub(super) enum Selection {
    Field(Field),
    /// `... on T { }` (the type is not checked).
    Inline(Vec<Self>),
    /// `...Name`.
    Spread(String),
}

/// A parsed document: its operation and its fragments.
pub(super) struct Document {
    pub(super) mutation: bool,
    /// `mutation` or `query`, with the operation's name if it has one:
    /// the head of validation errors' `path`.
    pub(super) head: String,
    pub(super) selection: Vec<Selection>,
    pub(super) fragments: Vec<(String, Vec<Selection>)>,
}

struct Parser {
    tokens: Vec<Lexeme>,
    at: usize,
}

/// A parse, or why not: a message and where (line and column, 1-based;
/// 0 when the document ended too early).
pub(super) type Parsed<T> = Result<T, (String, usize, usize)>;

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.tokens.get(self.at).map(|l| &l.tok)
    }

    fn error<T>(&self) -> Parsed<T> {
        match self.tokens.get(self.at) {
            Some(lexeme) => {
                let shown = match &lexeme.tok {
                    Tok::Punct(c) => c.to_string(),
                    Tok::Spread => "...".into(),
                    Tok::Name(n) | Tok::Num(n) => n.clone(),
                    Tok::Str(s) => format!("\\\"{s}\\\""),
                };
                Err((
                    format!("Parse error on \"{shown}\""),
                    lexeme.line,
                    lexeme.column,
                ))
            }
            None => Err(("Unexpected end of document".into(), 0, 0)),
        }
    }

    fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(&Tok::Punct(c)) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, c: char) -> Parsed<()> {
        if self.eat(c) { Ok(()) } else { self.error() }
    }

    fn name(&mut self) -> Parsed<String> {
        match self.peek() {
            Some(Tok::Name(name)) => {
                let name = name.clone();
                self.at += 1;
                Ok(name)
            }
            _ => self.error(),
        }
    }

    fn document(&mut self) -> Parsed<Document> {
        let mut operation = None;
        let mut fragments = Vec::new();
        while self.peek().is_some() {
            match self.peek() {
                Some(Tok::Name(word)) if word == "fragment" => {
                    self.at += 1;
                    let name = self.name()?;
                    if self.name()? != "on" {
                        return self.error();
                    }
                    self.name()?;
                    fragments.push((name, self.selection_set()?));
                }
                Some(Tok::Punct('{')) => {
                    operation = Some((false, "query".to_owned(), self.selection_set()?));
                }
                Some(Tok::Name(word)) if word == "query" || word == "mutation" => {
                    let mut head = word.clone();
                    self.at += 1;
                    if let Some(Tok::Name(name)) = self.peek() {
                        head = format!("{head} {name}");
                        self.at += 1;
                    }
                    if self.eat('(') {
                        self.skip_until(')')?;
                    }
                    self.directives()?;
                    let mutation = head.starts_with("mutation");
                    operation = Some((mutation, head, self.selection_set()?));
                }
                _ => return self.error(),
            }
        }
        let (mutation, head, selection) =
            operation.ok_or_else(|| ("No operation".to_owned(), 0, 0))?;
        Ok(Document {
            mutation,
            head,
            selection,
            fragments,
        })
    }

    /// Skips variable definitions: `$id: ID!, $m: T = SQUASH`.
    fn skip_until(&mut self, close: char) -> Parsed<()> {
        let mut depth = 0usize;
        loop {
            match self.peek() {
                None => return self.error(),
                Some(Tok::Punct(c)) if *c == close && depth == 0 => {
                    self.at += 1;
                    return Ok(());
                }
                Some(Tok::Punct('(' | '[' | '{')) => depth += 1,
                Some(Tok::Punct(')' | ']' | '}')) => depth = depth.saturating_sub(1),
                _ => {}
            }
            self.at += 1;
        }
    }

    fn directives(&mut self) -> Parsed<()> {
        while self.eat('@') {
            self.name()?;
            if self.eat('(') {
                self.skip_until(')')?;
            }
        }
        Ok(())
    }

    fn selection_set(&mut self) -> Parsed<Vec<Selection>> {
        self.expect('{')?;
        let mut selection = Vec::new();
        while !self.eat('}') {
            if self.peek() == Some(&Tok::Spread) {
                self.at += 1;
                match self.peek() {
                    Some(Tok::Name(word)) if word == "on" => {
                        self.at += 1;
                        self.name()?;
                        self.directives()?;
                        selection.push(Selection::Inline(self.selection_set()?));
                    }
                    Some(Tok::Punct('{' | '@')) => {
                        self.directives()?;
                        selection.push(Selection::Inline(self.selection_set()?));
                    }
                    _ => {
                        let name = self.name()?;
                        self.directives()?;
                        selection.push(Selection::Spread(name));
                    }
                }
                continue;
            }
            let (line, column) = self
                .tokens
                .get(self.at)
                .map_or((0, 0), |l| (l.line, l.column));
            let first = self.name()?;
            let (alias, name) = if self.eat(':') {
                (Some(first), self.name()?)
            } else {
                (None, first)
            };
            let mut args = Vec::new();
            if self.eat('(') {
                while !self.eat(')') {
                    let arg = self.name()?;
                    self.expect(':')?;
                    args.push((arg, self.value()?));
                }
            }
            self.directives()?;
            let sub = if self.peek() == Some(&Tok::Punct('{')) {
                self.selection_set()?
            } else {
                Vec::new()
            };
            selection.push(Selection::Field(Field {
                alias,
                name,
                args,
                selection: sub,
                line,
                column,
            }));
        }
        Ok(selection)
    }

    fn value(&mut self) -> Parsed<Input> {
        let Some(tok) = self.peek().cloned() else {
            return self.error();
        };
        self.at += 1;
        Ok(match tok {
            Tok::Punct('$') => Input::Var(self.name()?),
            Tok::Str(s) => Input::Literal(json!(s)),
            Tok::Num(n) => Input::Literal(serde_json::from_str(&n).unwrap_or(Value::Null)),
            Tok::Name(n) => match n.as_str() {
                "true" => Input::Literal(json!(true)),
                "false" => Input::Literal(json!(false)),
                "null" => Input::Literal(Value::Null),
                _ => Input::Enum(n),
            },
            Tok::Punct('[') => {
                let mut items = Vec::new();
                while !self.eat(']') {
                    items.push(self.value()?);
                }
                Input::List(items)
            }
            Tok::Punct('{') => {
                let mut fields = Vec::new();
                while !self.eat('}') {
                    let name = self.name()?;
                    self.expect(':')?;
                    fields.push((name, self.value()?));
                }
                Input::Object(fields)
            }
            _ => {
                self.at -= 1;
                return self.error();
            }
        })
    }
}

/// What one resolved input value was written as, for error wording.
pub(super) fn resolve(input: &Input, variables: &Value) -> Value {
    match input {
        Input::Var(name) => variables.get(name).cloned().unwrap_or(Value::Null),
        Input::Literal(value) => value.clone(),
        Input::Enum(name) => json!(name),
        Input::List(items) => items.iter().map(|i| resolve(i, variables)).collect(),
        Input::Object(fields) => Value::Object(
            fields
                .iter()
                .map(|(k, v)| (k.clone(), resolve(v, variables)))
                .collect(),
        ),
    }
}

/// Parses a whole document.
pub(super) fn parse(text: &str) -> Parsed<Document> {
    Parser {
        tokens: lex(text)?,
        at: 0,
    }
    .document()
}
