//! The same binary as a command-line tool: a flag per input, `--help`,
//! `--version`, `--dry-run` and the action's switches.

use std::collections::{BTreeMap, BTreeSet};

use crate::diagnostic::Diagnostic;
use crate::spec::{ActionSpec, InputKind};

/// What the command line asked for.
#[derive(Debug, PartialEq, Eq)]
pub enum Invocation {
    /// Run the action.
    Run(Arguments),
    /// Print the help text and stop.
    Help,
    /// Print the version and stop.
    Version,
}

/// The inputs and switches given on the command line.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Arguments {
    /// Input values by input name; they win over `INPUT_*` variables.
    pub inputs: BTreeMap<&'static str, String>,
    /// The switches given, `dry-run` among them.
    pub switches: BTreeSet<&'static str>,
}

/// A command line that does not fit the action.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// A flag that is neither an input nor a switch.
    #[error("unknown flag `{flag}`")]
    UnknownFlag {
        /// The flag as given.
        flag: String,
        /// The closest known flag, if one is close.
        suggestion: Option<String>,
    },
    /// A secret input given as a flag: argv is readable by every process.
    #[error(
        "`--{name}` cannot be given on the command line: it is a secret, and argv is visible to every process on the machine"
    )]
    SecretInArgv {
        /// The input's name.
        name: &'static str,
    },
    /// A flag that takes a value came last, without one.
    #[error("`--{name}` needs a value")]
    MissingValue {
        /// The input's name.
        name: &'static str,
    },
    /// A word that is not a flag.
    #[error("unexpected argument `{argument}`")]
    Positional {
        /// The argument as given.
        argument: String,
    },
}

impl Diagnostic for CliError {
    fn hint(&self) -> Option<String> {
        Some(match self {
            Self::UnknownFlag {
                suggestion: Some(known),
                ..
            } => format!("did you mean `--{known}`?"),
            Self::UnknownFlag { .. } | Self::Positional { .. } => {
                "run with `--help` to list the flags".to_owned()
            }
            Self::SecretInArgv { name } => format!(
                "set it in the environment instead: `{}=…`",
                crate::spec::input_env_name(name)
            ),
            Self::MissingValue { name } => format!("write `--{name} VALUE` or `--{name}=VALUE`"),
        })
    }
}

/// Reads the arguments after the program name.
pub fn parse(spec: &'static ActionSpec, args: &[String]) -> Result<Invocation, CliError> {
    let mut parsed = Arguments::default();
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--help" | "-h" => return Ok(Invocation::Help),
            "--version" | "-V" => return Ok(Invocation::Version),
            _ => {}
        }
        let Some(flag) = arg.strip_prefix("--") else {
            return Err(CliError::Positional {
                argument: arg.clone(),
            });
        };
        let (name, inline_value) = match flag.split_once('=') {
            Some((name, value)) => (name, Some(value.to_owned())),
            None => (flag, None),
        };
        if let Some(switch) = switch_named(spec, name) {
            parsed.switches.insert(switch);
            continue;
        }
        let Some(input) = spec.inputs.iter().find(|input| input.name == name) else {
            return Err(CliError::UnknownFlag {
                flag: arg.clone(),
                suggestion: closest(spec, name),
            });
        };
        if input.kind == InputKind::Secret {
            return Err(CliError::SecretInArgv { name: input.name });
        }
        let value = match inline_value {
            Some(value) => value,
            None if input.kind == InputKind::Bool => "true".to_owned(),
            None => args
                .next()
                .cloned()
                .ok_or(CliError::MissingValue { name: input.name })?,
        };
        parsed.inputs.insert(input.name, value);
    }
    Ok(Invocation::Run(parsed))
}

fn switch_named(spec: &'static ActionSpec, name: &str) -> Option<&'static str> {
    if spec.dry_run && name == "dry-run" {
        return Some("dry-run");
    }
    spec.switch(name).map(|switch| switch.name)
}

/// The known flag nearest to `name`, when it is a typo away.
fn closest(spec: &ActionSpec, name: &str) -> Option<String> {
    spec.inputs
        .iter()
        .map(|input| input.name)
        .chain(spec.switches.iter().map(|switch| switch.name))
        .map(|known| (edit_distance(known, name), known))
        .filter(|(distance, _)| *distance <= 2)
        .min()
        .map(|(_, known)| known.to_owned())
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current.push(substitution.min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[b.len()]
}

/// The `--help` text, generated from the spec.
pub fn help(spec: &ActionSpec, version: &str) -> String {
    let mut text = format!(
        "{name} {version}\n{about}\n\nUsage: {name} [--INPUT VALUE]...\n\n\
         Under GitHub Actions the inputs come from INPUT_* variables; on the command line,\n\
         from the flags below or the same variables. Secrets are read from the environment only.\n\nInputs:\n",
        name = spec.name,
        about = spec.about,
    );
    for input in spec.inputs {
        let value = match input.kind {
            InputKind::Bool => "",
            InputKind::Text => " VALUE",
            InputKind::Secret => "",
        };
        let mut notes = Vec::new();
        if input.required {
            notes.push("required".to_owned());
        }
        if let Some(default) = input.default {
            notes.push(format!("default: {default}"));
        }
        if input.kind == InputKind::Secret {
            notes.push(format!("secret: set {}", input.env_name()));
        }
        let notes = if notes.is_empty() {
            String::new()
        } else {
            format!(" [{}]", notes.join("; "))
        };
        text.push_str(&format!(
            "  --{}{value}\n      {}{notes}\n",
            input.name, input.description
        ));
    }
    text.push_str("\nOptions:\n");
    if spec.dry_run {
        text.push_str("  --dry-run\n      Show what would change without changing it\n");
    }
    for switch in spec.switches {
        text.push_str(&format!(
            "  --{}\n      {}\n",
            switch.name, switch.description
        ));
    }
    text.push_str(
        "  -h, --help\n      Print this help\n  -V, --version\n      Print the version\n",
    );
    if !spec.outputs.is_empty() {
        text.push_str("\nOutputs (written to GITHUB_OUTPUT, or printed as name=value):\n");
        for output in spec.outputs {
            text.push_str(&format!(
                "  {}\n      {}\n",
                output.name, output.description
            ));
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{InputSpec, SwitchSpec};

    static SPEC: ActionSpec = ActionSpec {
        name: "demo",
        about: "A demo.",
        inputs: &[
            InputSpec::new("aws-region", "Region").required(),
            InputSpec::new("refreshable", "Refresh").kind(InputKind::Bool),
            InputSpec::new("token", "Token").kind(InputKind::Secret),
        ],
        outputs: &[],
        switches: &[SwitchSpec {
            name: "cleanup",
            description: "Blank credentials",
            stdout_is_data: false,
        }],
        dry_run: true,
    };

    fn args(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| (*w).to_owned()).collect()
    }

    #[test]
    fn flags_become_inputs_and_switches() {
        let Ok(Invocation::Run(parsed)) = parse(
            &SPEC,
            &args(&[
                "--aws-region",
                "eu-west-1",
                "--refreshable",
                "--cleanup",
                "--dry-run",
            ]),
        ) else {
            panic!("expected a run");
        };
        assert_eq!(
            parsed.inputs.get("aws-region").map(String::as_str),
            Some("eu-west-1")
        );
        assert_eq!(
            parsed.inputs.get("refreshable").map(String::as_str),
            Some("true")
        );
        assert!(parsed.switches.contains("cleanup") && parsed.switches.contains("dry-run"));
    }

    #[test]
    fn equals_form_works() {
        let Ok(Invocation::Run(parsed)) = parse(&SPEC, &args(&["--aws-region=us-east-1"])) else {
            panic!("expected a run");
        };
        assert_eq!(
            parsed.inputs.get("aws-region").map(String::as_str),
            Some("us-east-1")
        );
    }

    #[test]
    fn secrets_are_refused_in_argv() {
        let error = parse(&SPEC, &args(&["--token", "abc"])).err();
        assert!(matches!(
            error,
            Some(CliError::SecretInArgv { name: "token" })
        ));
    }

    #[test]
    fn typos_get_a_suggestion() {
        let Err(error) = parse(&SPEC, &args(&["--aws-regoin", "x"])) else {
            panic!("expected an error")
        };
        assert_eq!(
            error.hint().as_deref(),
            Some("did you mean `--aws-region`?")
        );
    }

    #[test]
    fn missing_value_and_positionals_are_errors() {
        assert!(matches!(
            parse(&SPEC, &args(&["--aws-region"])),
            Err(CliError::MissingValue { .. })
        ));
        assert!(matches!(
            parse(&SPEC, &args(&["eu-west-1"])),
            Err(CliError::Positional { .. })
        ));
    }

    #[test]
    fn help_lists_every_input() {
        let text = help(&SPEC, "0.1.0");
        for needle in [
            "--aws-region VALUE",
            "required",
            "--refreshable",
            "secret: set INPUT_TOKEN",
            "--cleanup",
            "--dry-run",
        ] {
            assert!(text.contains(needle), "{needle} missing from help:\n{text}");
        }
    }
}
