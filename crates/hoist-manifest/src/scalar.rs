//! Rendering a value as a YAML scalar in the style the old one had.

use saphyr_parser::ScalarStyle;

/// Renders `value` for a scalar that was written in `style`: plain stays plain when that is
/// safe, single-quoted stays single-quoted unless the value holds control characters, anything
/// else becomes double-quoted. The result always reads back as exactly `value`, a string.
pub(crate) fn render(value: &str, style: ScalarStyle) -> String {
    match style {
        ScalarStyle::SingleQuoted if !value.chars().any(needs_escape) => single_quoted(value),
        ScalarStyle::SingleQuoted | ScalarStyle::DoubleQuoted => double_quoted(value),
        _ => plain_or_double_quoted(value),
    }
}

/// `value` plain when [`is_safe_plain`], else double-quoted: for new scalars and keys.
pub(crate) fn plain_or_double_quoted(value: &str) -> String {
    if is_safe_plain(value) {
        value.to_owned()
    } else {
        double_quoted(value)
    }
}

/// Whether `value` can be written without quotes and still read back as the same string by
/// YAML 1.2 and YAML 1.1 readers (Helm, kustomize, Argo CD). Deliberately conservative.
pub(crate) fn is_safe_plain(value: &str) -> bool {
    let Some(first) = value.chars().next() else {
        return false;
    };
    let allowed = |c: char| c.is_ascii_alphanumeric() || "._/@:+-".contains(c);
    (first.is_ascii_alphanumeric() || first == '/' || first == '_')
        && value.chars().all(allowed)
        && !value.ends_with(':')
        && !resolves_as_non_string(value)
}

/// Whether a plain scalar with this text would be read as something other than a string
/// (null, bool, int, float, timestamp) by a YAML 1.2 core or a YAML 1.1 reader.
pub(crate) fn resolves_as_non_string(plain: &str) -> bool {
    const WORDS: [&str; 13] = [
        "", "~", "null", "true", "false", "yes", "no", "on", "off", "y", "n", "<<", "=",
    ];
    let lower = plain.to_ascii_lowercase();
    let unsigned = lower.strip_prefix(['+', '-']).unwrap_or(&lower);
    WORDS.contains(&lower.as_str())
        || matches!(unsigned, ".inf" | ".nan")
        || is_number(unsigned)
        || is_sexagesimal(unsigned)
        || is_timestamp(unsigned)
}

/// Whether a plain scalar with this text is a null (empty, `~` or `null` in any case).
pub(crate) fn resolves_as_null(plain: &str) -> bool {
    matches!(plain.to_ascii_lowercase().as_str(), "" | "~" | "null")
}

/// Integers and floats of YAML 1.1 and 1.2 (without sign): `10`, `1_000`, `0x1F`, `0o17`,
/// `0b101`, `1.10`, `1.`, `.5`, `1e5`, `1.5E-3`.
fn is_number(s: &str) -> bool {
    let digits =
        |s: &str, radix: u32| !s.is_empty() && s.chars().all(|c| c == '_' || c.is_digit(radix));
    for (prefix, radix) in [("0x", 16), ("0o", 8), ("0b", 2)] {
        if let Some(rest) = s.strip_prefix(prefix) {
            return digits(rest, radix);
        }
    }
    // Mantissa, then an optional exponent.
    let (mantissa, exponent) = match s.find('e') {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let mantissa_ok = match mantissa.split_once('.') {
        Some((whole, fraction)) => {
            (whole.is_empty() && digits(fraction, 10))
                || (digits(whole, 10) && (fraction.is_empty() || digits(fraction, 10)))
        }
        None => digits(mantissa, 10),
    };
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['+', '-']).unwrap_or(e);
        !e.is_empty() && e.chars().all(|c| c.is_ascii_digit())
    });
    mantissa_ok && exponent_ok
}

/// YAML 1.1 base-60 numbers, e.g. `1:20` or `190:20:30.15` (matched loosely).
fn is_sexagesimal(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_digit())
        && s.contains(':')
        && s.chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '_' | ':' | '.'))
}

/// YAML 1.1 timestamps: anything starting like `2024-01-01` or `2024-1-1`.
fn is_timestamp(s: &str) -> bool {
    let mut parts = s.splitn(3, '-');
    let (Some(year), Some(month), Some(rest)) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    let day: String = rest.chars().take_while(char::is_ascii_digit).collect();
    let all_digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
    year.len() == 4
        && all_digits(year)
        && (1..=2).contains(&month.len())
        && all_digits(month)
        && (1..=2).contains(&day.len())
}

/// `'value'` with every `'` doubled. Only for values without control characters.
fn single_quoted(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

/// `"value"` with YAML escapes for `"`, `\` and every non-printable character.
pub(crate) fn double_quoted(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if needs_escape(c) && (c as u32) < 0x100 => {
                out.push_str(&format!("\\x{:02X}", c as u32));
            }
            c if needs_escape(c) => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Characters that must not appear literally in a quoted scalar: controls, the YAML 1.1
/// line breaks (NEL, LS, PS), the byte order mark and the non-characters.
fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{fffe}' | '\u{ffff}'
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn safe_plain() {
        for value in [
            "abc1234",
            "1.2.3",
            "v1.2.3",
            "latest",
            "sha256:abc",
            "a/b:c",
            "_x",
            "/x",
            "1.2.3-rc.1+b",
        ] {
            assert!(is_safe_plain(value), "{value} should be plain");
        }
        for value in [
            "",
            "1.10",
            "10",
            "1e5",
            "1E5",
            "1.5e-3",
            "0x1F",
            "0o17",
            "0b11",
            "1_000",
            ".inf",
            "-.inf",
            ".nan",
            "+1",
            "-1",
            "true",
            "False",
            "YES",
            "no",
            "on",
            "OFF",
            "y",
            "N",
            "null",
            "Null",
            "~",
            "1:20",
            "1:20:30.5",
            "2024-01-01",
            "2024-1-1t10:00:00z",
            "a b",
            "a #b",
            "a:",
            "-x",
            ".x",
            "a,b",
            "a\nb",
            "é",
            "x'y",
            "@x",
            "1.",
        ] {
            assert!(!is_safe_plain(value), "{value:?} should be quoted");
        }
    }

    #[test]
    fn renders_in_the_old_style() {
        assert_eq!(render("abc", ScalarStyle::Plain), "abc");
        assert_eq!(render("1.10", ScalarStyle::Plain), "\"1.10\"");
        assert_eq!(render("it's", ScalarStyle::SingleQuoted), "'it''s'");
        assert_eq!(render("a\nb", ScalarStyle::SingleQuoted), "\"a\\nb\"");
        assert_eq!(
            render("a\"b\\c\td\u{1}\u{2028}", ScalarStyle::DoubleQuoted),
            "\"a\\\"b\\\\c\\td\\x01\\u2028\""
        );
        assert_eq!(
            render("v1\nevil: true", ScalarStyle::Plain),
            "\"v1\\nevil: true\""
        );
    }
}
