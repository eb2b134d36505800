//! The workflow-command channel: stdout, with masks, annotations, groups and
//! debug lines, escaped as `@actions/core` escapes them.
//!
//! This is the only place in hoist that writes to stdout or stderr.

use std::io::Write;

use base64::Engine as _;

use crate::diagnostic::Location;

/// The severity of an annotation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// `::error::`: the step fails.
    Error,
    /// `::warning::`: shown in yellow, the step goes on.
    Warning,
    /// `::notice::`: informational.
    Notice,
}

impl Level {
    fn command(self) -> &'static str {
        match self {
            Self::Error => "error",
            Self::Warning => "warning",
            Self::Notice => "notice",
        }
    }
}

/// Escapes a command's message: `%`, `\r`, `\n`.
pub fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a command's property value: as [`escape_data`], plus `:` and `,`.
pub fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

/// Text that came from outside hoist: a file in a GitOps repository, an
/// Argo CD message, an STS answer, anything a third party could have written.
///
/// The only thing to do with it is [`Console::outside`], which prints it
/// through [`neutralize`], so that no line of it can be read by the runner as
/// a workflow command. It has no `Display`, so it cannot be formatted into a
/// line that skips that step.
#[derive(Debug, Clone, Copy)]
pub struct Outside<'a>(&'a str);

impl<'a> Outside<'a> {
    /// Marks `text` as written outside hoist. Format hoist's own words and the
    /// outside text into one string first, then wrap that string.
    pub fn new(text: &'a str) -> Self {
        Self(text)
    }
}

/// Escapes text so that no line of it is a workflow command, and keeps it
/// readable.
///
/// The runner splits stdout at `\n`, `\r\n` and a lone `\r`, and reads a line
/// as a command when, after leading whitespace, it starts with `::` (the
/// `::name ...::data` form), or when it holds `##[` anywhere (the older
/// `##[name ...]data` form). So:
///
/// - the text is split at every `\r\n`, `\r` and `\n`, and each piece is a line
///   of the result (joined with `\n`);
/// - a line whose start after whitespace and control characters is `::` gets
///   a `\` before that `::` (`  ::warning::x` becomes `  \::warning::x`);
/// - every `##[` becomes `##\[`.
///
/// The escapes are visible characters on purpose: the runner compares with
/// .NET's culture-sensitive `StartsWith`/`IndexOf`, which may skip zero-width
/// characters, so an invisible escape could be ignored.
pub fn neutralize(text: &str) -> String {
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    let mut lines = Vec::new();
    for line in text.split('\n') {
        let start = line.len()
            - line
                .trim_start_matches(|c: char| c.is_whitespace() || c.is_control())
                .len();
        let (indent, rest) = line.split_at(start);
        let line = if rest.starts_with("::") {
            format!("{indent}\\{rest}")
        } else {
            line.to_owned()
        };
        lines.push(line.replace("##[", "##\\["));
    }
    lines.join("\n")
}

/// Who reads stdout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// A GitHub Actions runner: workflow commands on stdout.
    Actions,
    /// A person at a terminal: plain text, annotations on stderr.
    Terminal,
    /// A program reading a data protocol on stdout (an AWS
    /// `credential_process` answer): every message goes to stderr.
    Data,
}

/// Where the workflow commands and human messages go.
///
/// Every line written through it has the registered secrets replaced by
/// `***` first, so a secret cannot reach the log even outside Actions, where
/// nothing else masks it.
pub struct Console {
    out: Box<dyn Write + Send>,
    err: Box<dyn Write + Send>,
    mode: Mode,
    debug: bool,
    secrets: Vec<String>,
}

impl std::fmt::Debug for Console {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Console")
            .field("mode", &self.mode)
            .field("debug", &self.debug)
            .field("secrets", &self.secrets.len())
            .finish_non_exhaustive()
    }
}

impl Console {
    /// A console over the given streams; `debug` shows debug lines.
    pub fn new(
        out: Box<dyn Write + Send>,
        err: Box<dyn Write + Send>,
        mode: Mode,
        debug: bool,
    ) -> Self {
        Self {
            out,
            err,
            mode,
            debug,
            secrets: Vec::new(),
        }
    }

    /// Whether this run is under a GitHub Actions runner.
    pub fn in_actions(&self) -> bool {
        self.mode == Mode::Actions
    }

    /// Registers a secret: `::add-mask::` for each of its non-blank lines
    /// (a PEM key is masked line by line, except its public `-----BEGIN …-----`
    /// and `-----END …-----` armor, which would otherwise hide every PEM
    /// label in the log), and local redaction from now on.
    pub fn mask(&mut self, secret: &str) {
        let mut parts: Vec<&str> = vec![secret];
        if secret.contains('\n') {
            parts.extend(
                secret
                    .lines()
                    .map(str::trim)
                    .filter(|line| !line.is_empty() && !is_pem_armor(line)),
            );
        }
        for part in parts {
            let part = part.trim_end_matches(['\r', '\n']);
            if part.is_empty() || self.secrets.iter().any(|known| known == part) {
                continue;
            }
            // A value holding a secret already masked is hidden by that mask;
            // announcing it would print the secret inside the command.
            let covered = self
                .secrets
                .iter()
                .any(|known| part.contains(known.as_str()));
            if self.in_actions() && !part.contains('\n') && !covered {
                self.write_raw(&format!("::add-mask::{}", escape_data(part)));
            }
            self.secrets.push(part.to_owned());
        }
        // Longest first, so a secret that contains another is replaced whole.
        self.secrets
            .sort_by_key(|known| std::cmp::Reverse(known.len()));
    }

    /// Registers a secret and the standard base64 of it, the form in which
    /// registry passwords and Basic credentials travel.
    pub fn mask_with_base64(&mut self, secret: &str) {
        self.mask(secret);
        self.mask(&base64::engine::general_purpose::STANDARD.encode(secret));
    }

    /// Replaces every registered secret in `text` with `***`.
    pub fn redact(&self, text: &str) -> String {
        let mut text = text.to_owned();
        for secret in &self.secrets {
            if text.contains(secret.as_str()) {
                text = text.replace(secret.as_str(), "***");
            }
        }
        text
    }

    /// A plain log line in hoist's own words. Text from outside hoist goes
    /// through [`Console::outside`] instead, so the call site says so; as a
    /// backstop this line is escaped the same way ([`neutralize`]), so it
    /// cannot be a workflow command either.
    pub fn info(&mut self, text: &str) {
        let text = neutralize(&self.redact(text));
        self.write_log(&text);
    }

    /// Prints text from outside hoist (see [`Outside`]): secrets redacted,
    /// then every line escaped by [`neutralize`], so the text is readable in
    /// the log but cannot forge an annotation, an output, a mask or a
    /// `::stop-commands::`.
    pub fn outside(&mut self, text: Outside<'_>) {
        let text = neutralize(&self.redact(text.0));
        self.write_log(&text);
    }

    /// A debug line, shown only when `RUNNER_DEBUG=1`.
    pub fn debug(&mut self, text: &str) {
        if !self.debug {
            return;
        }
        let text = self.redact(text);
        if self.in_actions() {
            self.write_raw(&format!("::debug::{}", escape_data(&text)));
        } else {
            self.write_err(&format!("debug: {text}"));
        }
    }

    /// An annotation with an optional title and place.
    pub fn annotate(
        &mut self,
        level: Level,
        title: Option<&str>,
        at: Option<&Location>,
        message: &str,
    ) {
        let message = self.redact(message);
        if !self.in_actions() {
            self.write_err(&format!("{}: {message}", level.command()));
            return;
        }
        let mut properties = Vec::new();
        if let Some(title) = title {
            properties.push(format!("title={}", escape_property(&self.redact(title))));
        }
        if let Some(at) = at {
            properties.push(format!("file={}", escape_property(&self.redact(&at.file))));
            if let Some(line) = at.line {
                properties.push(format!("line={line}"));
            }
        }
        let properties = if properties.is_empty() {
            String::new()
        } else {
            format!(" {}", properties.join(","))
        };
        self.write_raw(&format!(
            "::{}{properties}::{}",
            level.command(),
            escape_data(&message)
        ));
    }

    /// A warning annotation.
    pub fn warning(&mut self, message: &str) {
        self.annotate(Level::Warning, None, None, message);
    }

    /// Runs `body` inside a foldable `::group::`.
    pub fn group<T>(&mut self, title: &str, body: impl FnOnce(&mut Self) -> T) -> T {
        let title = self.redact(title);
        if self.in_actions() {
            self.write_raw(&format!("::group::{}", escape_data(&title)));
        } else {
            self.write_log(&format!("== {title}"));
        }
        let value = body(self);
        if self.in_actions() {
            self.write_raw("::endgroup::");
        }
        value
    }

    /// Writes a line to stdout as it is. Only for lines already redacted.
    pub(crate) fn write_raw(&mut self, line: &str) {
        // A closed stdout leaves nothing to report to; the exit code still tells.
        let _ = writeln!(self.out, "{line}");
        let _ = self.out.flush();
    }

    /// A log line: stdout, or stderr when stdout carries data.
    fn write_log(&mut self, line: &str) {
        if self.mode == Mode::Data {
            self.write_err(line);
        } else {
            self.write_raw(line);
        }
    }

    fn write_err(&mut self, line: &str) {
        let _ = writeln!(self.err, "{line}");
        let _ = self.err.flush();
    }
}

/// Whether `line` is a PEM armor line (`-----BEGIN X-----`, `-----END
/// X-----`): a label, not key material.
fn is_pem_armor(line: &str) -> bool {
    (line.starts_with("-----BEGIN ") || line.starts_with("-----END ")) && line.ends_with("-----")
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    /// A writer tests can read back.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0
                .lock()
                .map_err(|_| std::io::Error::other("poisoned"))?
                .extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl Captured {
        fn text(&self) -> String {
            String::from_utf8(self.0.lock().map(|b| b.clone()).unwrap_or_default())
                .unwrap_or_default()
        }
    }

    fn console(in_actions: bool, debug: bool) -> (Console, Captured, Captured) {
        let (out, err) = (Captured::default(), Captured::default());
        let mode = if in_actions {
            Mode::Actions
        } else {
            Mode::Terminal
        };
        (
            Console::new(Box::new(out.clone()), Box::new(err.clone()), mode, debug),
            out,
            err,
        )
    }

    #[test]
    fn escapes_match_the_toolkit() {
        assert_eq!(escape_data("50% a\r\nb:c,d"), "50%25 a%0D%0Ab:c,d");
        assert_eq!(escape_property("50% a\r\nb:c,d"), "50%25 a%0D%0Ab%3Ac%2Cd");
    }

    #[test]
    fn annotation_escapes_message_and_properties() {
        let (mut console, out, _) = console(true, false);
        let at = Location {
            file: "apps/a,b:c.yaml".into(),
            line: Some(7),
        };
        console.annotate(
            Level::Error,
            Some("bad: tag"),
            Some(&at),
            "line one\nline two 100%",
        );
        assert_eq!(
            out.text(),
            "::error title=bad%3A tag,file=apps/a%2Cb%3Ac.yaml,line=7::line one%0Aline two 100%25\n"
        );
    }

    #[test]
    fn masks_come_first_and_secrets_are_redacted_afterwards() {
        let (mut console, out, _) = console(true, false);
        console.mask("s3cr3t");
        console.info("token is s3cr3t");
        assert_eq!(out.text(), "::add-mask::s3cr3t\ntoken is ***\n");
    }

    #[test]
    fn a_pem_is_masked_line_by_line_but_not_its_armor() {
        let (mut console, out, _) = console(true, false);
        console.mask("-----BEGIN KEY-----\nAAAA\nBBBB\n-----END KEY-----\n");
        let text = out.text();
        for line in ["::add-mask::AAAA", "::add-mask::BBBB"] {
            assert!(
                text.lines().any(|l| l == line),
                "{line} missing from {text}"
            );
        }
        assert!(!text.contains("::add-mask::-----BEGIN"), "{text}");
        assert!(!text.contains("::add-mask::-----END"), "{text}");
        assert_eq!(
            console.redact("-----BEGIN PUBLIC KEY-----"),
            "-----BEGIN PUBLIC KEY-----"
        );
        assert!(
            !text.contains("AAAA\nBBBB"),
            "a multi-line mask must not be written raw"
        );
    }

    #[test]
    fn a_value_containing_a_masked_secret_is_not_announced_again() {
        let (mut console, out, _) = console(true, false);
        console.mask("pw-1");
        console.mask_with_base64("ci:pw-1");
        assert_eq!(out.text(), "::add-mask::pw-1\n::add-mask::Y2k6cHctMQ==\n");
        assert_eq!(console.redact("ci:pw-1"), "***");
    }

    #[test]
    fn base64_form_is_masked_too() {
        let (mut console, out, _) = console(true, false);
        console.mask_with_base64("AWS:pw");
        assert!(out.text().contains("::add-mask::QVdTOnB3\n"));
    }

    #[test]
    fn debug_lines_only_with_runner_debug() {
        let (mut quiet, out, _) = console(true, false);
        quiet.debug("hidden");
        assert_eq!(out.text(), "");
        let (mut loud, out, _) = console(true, true);
        loud.debug("shown");
        assert_eq!(out.text(), "::debug::shown\n");
    }

    #[test]
    fn groups_fold() {
        let (mut console, out, _) = console(true, false);
        console.group("Push", |c| c.info("layer 1"));
        assert_eq!(out.text(), "::group::Push\nlayer 1\n::endgroup::\n");
    }

    /// Whether the GitHub runner would read `line` as a workflow command:
    /// its `TryParseV2` (`::` after leading whitespace, then a second `::`)
    /// or its `TryParse` (`##[` anywhere, then `]`).
    fn parses_as_command(line: &str) -> bool {
        let v2 = line
            .trim_start()
            .strip_prefix("::")
            .is_some_and(|rest| rest.contains("::"));
        let v1 = line.find("##[").is_some_and(|at| line[at..].contains(']'));
        v2 || v1
    }

    /// The lines as the runner reads them: split at `\n`, `\r\n` and `\r`.
    fn runner_lines(text: &str) -> Vec<&str> {
        text.split(['\n', '\r']).filter(|l| !l.is_empty()).collect()
    }

    const FORGERIES: &[&str] = &[
        "  ::warning title=forged::x",
        "\t::error::forged",
        "diff line ##[set-output name=x;]y",
        "##[set-output name=forged;]yes",
        "::stop-commands::t",
        "::add-mask::s",
        "ok\r::warning::after a lone CR",
        "ok\r\n   ::notice::after CRLF",
        "\u{2003}::warning::after an em space",
        "###[set-output name=x;]y",
    ];

    #[test]
    fn the_forgeries_would_parse_unescaped() {
        for forged in FORGERIES {
            assert!(
                runner_lines(forged).iter().any(|l| parses_as_command(l)),
                "{forged:?}"
            );
        }
    }

    #[test]
    fn outside_text_never_parses_as_a_command() {
        for forged in FORGERIES {
            let (mut console, out, _) = console(true, false);
            console.outside(Outside::new(forged));
            let text = out.text();
            for line in runner_lines(&text) {
                assert!(!parses_as_command(line), "{forged:?} printed {line:?}");
            }
        }
    }

    #[test]
    fn outside_text_stays_readable() {
        let (mut console, out, _) = console(true, false);
        console.outside(Outside::new(
            " replicas: 2\n  ::warning title=forged::x\nsee ##[set-output name=x;]y\r\n::stop-commands::t\n::add-mask::s",
        ));
        assert_eq!(
            out.text(),
            " replicas: 2\n  \\::warning title=forged::x\nsee ##\\[set-output name=x;]y\n\\::stop-commands::t\n\\::add-mask::s\n"
        );
    }

    #[test]
    fn outside_text_is_redacted_before_it_is_escaped() {
        let (mut console, out, _) = console(true, false);
        console.mask("##[s3cr3t");
        let masked = out.text();
        console.outside(Outside::new("key ##[s3cr3t ##[x]"));
        assert_eq!(
            out.text().strip_prefix(masked.as_str()),
            Some("key *** ##\\[x]\n")
        );
    }

    #[test]
    fn info_lines_are_escaped_as_a_backstop() {
        let (mut console, out, _) = console(true, false);
        console.info("  ::warning::x ##[set-output name=x;]y");
        assert_eq!(out.text(), "  \\::warning::x ##\\[set-output name=x;]y\n");
    }

    #[test]
    fn outside_text_in_data_mode_goes_to_stderr() {
        let (out, err) = (Captured::default(), Captured::default());
        let mut console = Console::new(
            Box::new(out.clone()),
            Box::new(err.clone()),
            Mode::Data,
            false,
        );
        console.outside(Outside::new("::add-mask::s"));
        assert_eq!(out.text(), "");
        assert_eq!(err.text(), "\\::add-mask::s\n");
    }

    #[test]
    fn an_annotation_built_from_outside_text_is_one_line() {
        let (mut console, out, _) = console(true, false);
        console.annotate(
            Level::Error,
            Some("a\r\n::warning::t"),
            None,
            "sync failed: x\n::warning title=forged::x\r##[set-output name=forged;]yes\r\n::stop-commands::t",
        );
        let text = out.text();
        let lines = runner_lines(&text);
        assert_eq!(lines.len(), 1, "{text:?}");
        assert!(
            lines[0].starts_with("::error title=a%0D%0A%3A%3Awarning%3A%3At::"),
            "{text:?}"
        );
        assert!(
            lines[0].ends_with("sync failed: x%0A::warning title=forged::x%0D##[set-output name=forged;]yes%0D%0A::stop-commands::t"),
            "{text:?}"
        );
    }

    #[test]
    fn outside_actions_annotations_are_plain_text_on_stderr() {
        let (mut console, out, err) = console(false, false);
        console.mask("pw");
        console.annotate(Level::Error, None, None, "bad pw");
        assert_eq!(out.text(), "");
        assert_eq!(err.text(), "error: bad ***\n");
    }
}
