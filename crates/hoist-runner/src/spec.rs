//! What an action declares about itself: its inputs, outputs and CLI switches.
//!
//! The same table drives `INPUT_*` lookup, defaults, masking of secret inputs,
//! the CLI flags and `--help`. A test per action keeps it in step with the
//! action's `action.yml`.

/// Everything the runner contract needs to know about one action.
#[derive(Debug)]
pub struct ActionSpec {
    /// The action's name, which is also the binary's name (`oidc-assume`).
    pub name: &'static str,
    /// One line saying what the action does, shown by `--help`.
    pub about: &'static str,
    /// The inputs, named exactly as in `action.yml`.
    pub inputs: &'static [InputSpec],
    /// The outputs, named exactly as in `action.yml`.
    pub outputs: &'static [OutputSpec],
    /// Extra command-line switches that select a mode (`--cleanup`), never
    /// available as inputs.
    pub switches: &'static [SwitchSpec],
    /// Whether the action changes something outside the runner, and so takes
    /// `--dry-run`.
    pub dry_run: bool,
}

impl ActionSpec {
    /// The input declared under `name`, if any.
    pub fn input(&self, name: &str) -> Option<&InputSpec> {
        self.inputs.iter().find(|input| input.name == name)
    }

    /// The switch declared under `name`, if any.
    pub fn switch(&self, name: &str) -> Option<&SwitchSpec> {
        self.switches.iter().find(|switch| switch.name == name)
    }
}

/// One input of an action.
#[derive(Debug)]
pub struct InputSpec {
    /// The name as written in `action.yml` (`role-to-assume`).
    pub name: &'static str,
    /// What the input means, for `--help` and the action's README.
    pub description: &'static str,
    /// How the value is read and shown.
    pub kind: InputKind,
    /// The value used when the input is absent or empty.
    pub default: Option<&'static str>,
    /// Whether a run without this input is an error.
    pub required: bool,
}

impl InputSpec {
    /// An optional text input with no default; change it with the builder
    /// methods below.
    pub const fn new(name: &'static str, description: &'static str) -> Self {
        Self {
            name,
            description,
            kind: InputKind::Text,
            default: None,
            required: false,
        }
    }

    /// The same input, read as `kind`.
    pub const fn kind(mut self, kind: InputKind) -> Self {
        self.kind = kind;
        self
    }

    /// The same input, with a default value.
    pub const fn default(mut self, value: &'static str) -> Self {
        self.default = Some(value);
        self
    }

    /// The same input, required.
    pub const fn required(mut self) -> Self {
        self.required = true;
        self
    }

    /// The environment variable the runner sets for this input:
    /// `INPUT_` + the name with spaces as `_`, upper-cased, hyphens kept.
    pub fn env_name(&self) -> String {
        input_env_name(self.name)
    }
}

/// The environment variable for an input named `name`, as `@actions/core`
/// and the runner spell it.
pub fn input_env_name(name: &str) -> String {
    format!("INPUT_{}", name.replace(' ', "_").to_uppercase())
}

/// How an input's value is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputKind {
    /// Free text.
    Text,
    /// `true`/`True`/`TRUE`/`false`/`False`/`FALSE`; a bare `--flag` on the
    /// command line means `true`.
    Bool,
    /// A secret: masked before anything else is printed, and refused as a
    /// command-line flag (argv is visible to every process on the machine).
    Secret,
}

/// One output of an action.
#[derive(Debug)]
pub struct OutputSpec {
    /// The name as written in `action.yml`.
    pub name: &'static str,
    /// What the output holds.
    pub description: &'static str,
}

/// A command-line switch that selects a mode of the binary.
#[derive(Debug)]
pub struct SwitchSpec {
    /// The switch without its leading dashes (`cleanup`).
    pub name: &'static str,
    /// What the switch does, for `--help`.
    pub description: &'static str,
    /// Whether stdout carries a data protocol in this mode (an AWS
    /// `credential_process` answer): then no workflow command goes to stdout,
    /// and messages go to stderr.
    pub stdout_is_data: bool,
}
