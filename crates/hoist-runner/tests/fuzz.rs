//! Property tests over untrusted input: the value parsers inputs go through (booleans,
//! durations, lists, names, input variable names) answer for any text, never panicking, and
//! read back what they are given in their own grammar.

use std::time::Duration;

use hoist_runner::spec::input_env_name;
use hoist_runner::values::{parse_bool, parse_duration, split_lines, split_names};
use proptest::prelude::*;
use proptest::test_runner::Config;

fn config() -> Config {
    Config {
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|cases| cases.parse().ok())
            .unwrap_or(256),
        failure_persistence: None,
        ..Config::default()
    }
}

/// Text near the grammar: digits, units, signs, spaces, and the boolean spellings.
fn input_text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[0-9hmsx .,\\-+]{0,12}",
        "(true|True|TRUE|false|False|FALSE|yes|on|1)[ \\n]?",
        "[0-9]{15,25}(ms|s|m|h)?",
        any::<String>(),
    ]
}

proptest! {
    #![proptest_config(config())]

    /// Booleans: only the six spellings of `getBooleanInput`.
    #[test]
    fn booleans(text in input_text()) {
        let expected = match text.as_str() {
            "true" | "True" | "TRUE" => Some(true),
            "false" | "False" | "FALSE" => Some(false),
            _ => None,
        };
        prop_assert_eq!(parse_bool(&text), expected);
    }

    /// Durations: any text parses or not; a sum of parts written in the grammar reads back
    /// as that sum.
    #[test]
    fn durations(text in input_text(), h in 0u64..1000, m in 0u64..1000, s in 0u64..100_000, ms in 0u64..10_000, order in any::<bool>()) {
        let _ = parse_duration(&text);
        if text.contains([' ', '-', '+', '.', ',']) {
            prop_assert_eq!(parse_duration(&text), None);
        }
        let written = if order { format!("{h}h{m}m{s}s{ms}ms") } else { format!("{ms}ms{s}s{m}m{h}h") };
        let expected = Duration::from_secs(h * 3600 + m * 60 + s) + Duration::from_millis(ms);
        prop_assert_eq!(parse_duration(&written), Some(expected));
        prop_assert_eq!(parse_duration(&s.to_string()), Some(Duration::from_secs(s)));
    }

    /// Lists: items are trimmed, never empty, never span lines; names also never hold a comma,
    /// and names joined by commas and newlines split back to themselves.
    #[test]
    fn lists(text in any::<String>(), names in prop::collection::vec("[a-z0-9_./@-]{1,12}", 0..8), newline in any::<bool>()) {
        for item in split_lines(&text) {
            prop_assert!(!item.is_empty());
            prop_assert_eq!(item.trim(), item.as_str());
            prop_assert!(!item.contains('\n'));
        }
        for item in split_names(&text) {
            prop_assert!(!item.is_empty());
            prop_assert_eq!(item.trim(), item.as_str());
            prop_assert!(!item.contains([',', '\n']));
        }
        let joined = names.join(if newline { "\n" } else { " , " });
        prop_assert_eq!(split_names(&joined), names.clone());
        prop_assert_eq!(split_lines(&names.join("\r\n")), names);
    }

    /// Input variable names: `INPUT_` and the name upper-cased, spaces as `_`.
    #[test]
    fn input_names(name in any::<String>()) {
        let env = input_env_name(&name);
        prop_assert!(env.starts_with("INPUT_"));
        prop_assert!(!env.contains(' '));
    }
}
