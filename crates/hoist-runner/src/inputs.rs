//! Typed access to an action's inputs.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::diagnostic::Diagnostic;
use crate::spec::ActionSpec;
use crate::values::{parse_bool, parse_duration, split_lines, split_names};

/// An input that is missing or does not read as the type asked for.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    /// A required input was absent or empty.
    #[error("input `{name}` is required and was not supplied")]
    Missing {
        /// The input's name.
        name: String,
    },
    /// A boolean input held something other than the six accepted spellings.
    #[error("input `{name}` must be a boolean, got `{value}`")]
    NotBool {
        /// The input's name.
        name: String,
        /// The value found.
        value: String,
    },
    /// A duration input did not parse.
    #[error("input `{name}` must be a duration, got `{value}`")]
    NotDuration {
        /// The input's name.
        name: String,
        /// The value found.
        value: String,
    },
    /// A numeric input did not parse.
    #[error("input `{name}` must be a whole number, got `{value}`")]
    NotNumber {
        /// The input's name.
        name: String,
        /// The value found.
        value: String,
    },
    /// A value fell outside the range the input allows.
    #[error("input `{name}` must be between {min} and {max}, got `{value}`")]
    OutOfRange {
        /// The input's name.
        name: String,
        /// The value found.
        value: String,
        /// The smallest value allowed, as the user writes it.
        min: String,
        /// The largest value allowed, as the user writes it.
        max: String,
    },
    /// A value is not one of the choices the input offers.
    #[error("input `{name}` must be one of {choices}, got `{value}`")]
    NotAChoice {
        /// The input's name.
        name: String,
        /// The value found.
        value: String,
        /// The choices, joined for display.
        choices: String,
    },
    /// A value is malformed in a way the caller explains.
    #[error("input `{name}` is invalid: {reason}")]
    Invalid {
        /// The input's name.
        name: String,
        /// What is wrong with it.
        reason: String,
        /// What to write instead.
        hint: String,
    },
}

impl InputError {
    /// [`InputError::Invalid`]: input `name` holds something wrong
    /// (`reason`), and `hint` says what to write instead.
    pub fn invalid(name: &str, reason: impl Into<String>, hint: impl Into<String>) -> Self {
        Self::Invalid {
            name: name.to_owned(),
            reason: reason.into(),
            hint: hint.into(),
        }
    }
}

impl Diagnostic for InputError {
    fn hint(&self) -> Option<String> {
        Some(match self {
            Self::Missing { name } => format!(
                "add `{name}: …` under the step's `with:`, or pass `--{name}` on the command line"
            ),
            Self::NotBool { .. } => "write `true` or `false`".to_owned(),
            Self::NotDuration { .. } => {
                "write seconds (`600`) or a number with a unit: `90s`, `10m`, `1h`".to_owned()
            }
            Self::NotNumber { .. } => "write digits only, such as `3600`".to_owned(),
            Self::OutOfRange { min, max, .. } => format!("pick a value from {min} to {max}"),
            Self::NotAChoice { choices, .. } => format!("write one of {choices}"),
            Self::Invalid { hint, .. } => hint.clone(),
        })
    }
}

/// The inputs of one run: values from `INPUT_*` variables and command-line
/// flags, with the spec's defaults behind them. Values are trimmed, and an
/// empty value counts as absent, as in `@actions/core`: it takes the default,
/// so a wrapper that forwards an unset input (the one-step action, the
/// container action) gets the same behaviour as a direct call.
#[derive(Debug)]
pub struct Inputs {
    spec: &'static ActionSpec,
    values: BTreeMap<&'static str, String>,
}

impl Inputs {
    pub(crate) fn new(spec: &'static ActionSpec, values: BTreeMap<&'static str, String>) -> Self {
        Self { spec, values }
    }

    /// The value of `name`, or its default; `None` when neither is there.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values
            .get(name)
            .map(String::as_str)
            .filter(|value| !value.is_empty())
            .or_else(|| self.spec.input(name).and_then(|input| input.default))
            .filter(|value| !value.is_empty())
    }

    /// The value of `name`, or an error naming the input when it is absent.
    pub fn required(&self, name: &str) -> Result<&str, InputError> {
        self.get(name).ok_or_else(|| InputError::Missing {
            name: name.to_owned(),
        })
    }

    /// A boolean input; absent (and without a default) means `false`.
    pub fn bool(&self, name: &str) -> Result<bool, InputError> {
        match self.get(name) {
            None => Ok(false),
            Some(value) => parse_bool(value).ok_or_else(|| InputError::NotBool {
                name: name.to_owned(),
                value: value.to_owned(),
            }),
        }
    }

    /// A duration input (`600`, `90s`, `10m`, `1h`).
    pub fn duration(&self, name: &str) -> Result<Option<Duration>, InputError> {
        self.get(name)
            .map(|value| {
                parse_duration(value).ok_or_else(|| InputError::NotDuration {
                    name: name.to_owned(),
                    value: value.to_owned(),
                })
            })
            .transpose()
    }

    /// A whole-number input within `min..=max`.
    pub fn number(&self, name: &str, min: u64, max: u64) -> Result<Option<u64>, InputError> {
        let Some(value) = self.get(name) else {
            return Ok(None);
        };
        let number: u64 = value.parse().map_err(|_| InputError::NotNumber {
            name: name.to_owned(),
            value: value.to_owned(),
        })?;
        if !(min..=max).contains(&number) {
            return Err(InputError::OutOfRange {
                name: name.to_owned(),
                value: value.to_owned(),
                min: min.to_string(),
                max: max.to_string(),
            });
        }
        Ok(Some(number))
    }

    /// One of a fixed set of words.
    pub fn choice(
        &self,
        name: &str,
        choices: &[&'static str],
    ) -> Result<Option<&'static str>, InputError> {
        let Some(value) = self.get(name) else {
            return Ok(None);
        };
        choices
            .iter()
            .copied()
            .find(|choice| *choice == value)
            .map(Some)
            .ok_or_else(|| InputError::NotAChoice {
                name: name.to_owned(),
                value: value.to_owned(),
                choices: choices
                    .iter()
                    .map(|c| format!("`{c}`"))
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }

    /// A newline-separated list (items may contain commas).
    pub fn lines(&self, name: &str) -> Vec<String> {
        self.get(name).map(split_lines).unwrap_or_default()
    }

    /// A list separated by newlines or commas (simple names).
    pub fn names(&self, name: &str) -> Vec<String> {
        self.get(name).map(split_names).unwrap_or_default()
    }
}
