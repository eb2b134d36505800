//! Parsers for the value shapes inputs come in: booleans, durations, lists.

use std::time::Duration;

/// Reads a boolean the way `@actions/core`'s `getBooleanInput` does: only
/// `true`, `True`, `TRUE`, `false`, `False` and `FALSE`.
pub fn parse_bool(value: &str) -> Option<bool> {
    match value {
        "true" | "True" | "TRUE" => Some(true),
        "false" | "False" | "FALSE" => Some(false),
        _ => None,
    }
}

/// Reads a duration: a whole number of seconds (`600`), or numbers with the
/// units `ms`, `s`, `m` and `h`, which may be combined (`90s`, `10m`, `1h30m`).
pub fn parse_duration(value: &str) -> Option<Duration> {
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        return value.parse().ok().map(Duration::from_secs);
    }
    if value.is_empty() {
        return None;
    }
    let mut total = Duration::ZERO;
    let mut rest = value;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        let number: u64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let unit_len = rest.bytes().take_while(u8::is_ascii_alphabetic).count();
        let part = match &rest[..unit_len] {
            "ms" => Duration::from_millis(number),
            "s" => Duration::from_secs(number),
            "m" => Duration::from_secs(number.checked_mul(60)?),
            "h" => Duration::from_secs(number.checked_mul(3600)?),
            _ => return None,
        };
        rest = &rest[unit_len..];
        total = total.checked_add(part)?;
    }
    Some(total)
}

/// Splits a value into lines, trimming each and dropping empty ones
/// (`getMultilineInput`). For values that may contain commas: tags, edits,
/// annotations.
pub fn split_lines(value: &str) -> Vec<String> {
    value
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .map(String::from)
        .collect()
}

/// Splits a value on newlines and commas, trimming each item and dropping
/// empty ones. For lists of simple names: account ids, labels, reviewers.
pub fn split_names(value: &str) -> Vec<String> {
    value
        .split(['\n', ','])
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(String::from)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn booleans_accept_only_the_six_spellings() {
        for yes in ["true", "True", "TRUE"] {
            assert_eq!(parse_bool(yes), Some(true));
        }
        for no in ["false", "False", "FALSE"] {
            assert_eq!(parse_bool(no), Some(false));
        }
        for bad in ["yes", "1", "tRue", "", "on", "false "] {
            assert_eq!(parse_bool(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn durations_accept_seconds_and_units() {
        let cases = [
            ("600", 600_000),
            ("90s", 90_000),
            ("10m", 600_000),
            ("1h", 3_600_000),
            ("1h30m", 5_400_000),
            ("250ms", 250),
            ("0", 0),
        ];
        for (text, millis) in cases {
            assert_eq!(
                parse_duration(text),
                Some(Duration::from_millis(millis)),
                "{text}"
            );
        }
    }

    #[test]
    fn durations_refuse_garbage() {
        for bad in [
            "",
            "m",
            "10x",
            "-5",
            "1.5h",
            "10 m",
            "h1",
            "99999999999999999999h",
            "5d",
        ] {
            assert_eq!(parse_duration(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn lines_keep_commas_and_drop_blanks() {
        assert_eq!(split_lines(" a,b \n\n  c\r\n"), vec!["a,b", "c"]);
    }

    #[test]
    fn names_split_on_commas_and_newlines() {
        assert_eq!(split_names("111, 222\n333,,\n"), vec!["111", "222", "333"]);
    }
}

/// Seconds since the Unix epoch as an RFC 3339 UTC time,
/// `2014-11-07T22:01:45Z` (Howard Hinnant's `civil_from_days`).
pub fn rfc3339(seconds: i64) -> String {
    let (days, secs) = (seconds.div_euclid(86_400), seconds.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

/// Now, in seconds since the Unix epoch.
pub fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

/// Now, as [`rfc3339`].
pub fn now_rfc3339() -> String {
    rfc3339(now_unix())
}

#[cfg(test)]
mod time_tests {
    use super::rfc3339;

    #[test]
    fn times_are_utc_rfc3339() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_415_397_705), "2014-11-07T22:01:45Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
    }
}
