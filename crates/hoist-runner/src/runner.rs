//! One run of an action: the environment, the inputs, and every way the
//! action talks back to the runner.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use crate::cli::{self, Invocation};
use crate::console::{Console, Level, Mode};
use crate::diagnostic::{Diagnostic, render};
use crate::files::{self, FileCommand, FileCommandError};
use crate::inputs::Inputs;
use crate::spec::{ActionSpec, InputKind};

/// A snapshot of the process environment, so tests can hand one in.
pub type Environment = BTreeMap<String, String>;

/// The running action's view of the runner.
#[derive(Debug)]
pub struct Runner {
    spec: &'static ActionSpec,
    env: Environment,
    inputs: Inputs,
    switches: BTreeSet<&'static str>,
    console: Console,
}

impl Runner {
    /// The action this run is of.
    pub fn spec(&self) -> &'static ActionSpec {
        self.spec
    }

    /// An environment variable of the process, such as `GITHUB_REPOSITORY`.
    pub fn env(&self, name: &str) -> Option<&str> {
        self.env.get(name).map(String::as_str)
    }

    /// The whole environment snapshot, for libraries that read several
    /// variables (proxies, CA bundles).
    pub fn environment(&self) -> &Environment {
        &self.env
    }

    /// The inputs.
    pub fn inputs(&self) -> &Inputs {
        &self.inputs
    }

    /// The console, for logs, groups, warnings and further masks.
    pub fn console(&mut self) -> &mut Console {
        &mut self.console
    }

    /// Whether a mode switch such as `--cleanup` was given.
    pub fn switch(&self, name: &str) -> bool {
        self.switches.contains(name)
    }

    /// Whether `--dry-run` was given (or the `dry-run` input is true).
    pub fn dry_run(&self) -> bool {
        self.switch("dry-run") || self.inputs.bool("dry-run").unwrap_or(false)
    }

    /// Masks a secret before anything can print it.
    pub fn mask(&mut self, secret: &str) {
        self.console.mask(secret);
    }

    /// Writes a step output; printed as `name=value` when `GITHUB_OUTPUT` is
    /// not set (a run by hand).
    pub fn set_output(&mut self, name: &str, value: &str) -> Result<(), FileCommandError> {
        self.write_key_value(FileCommand::Output, name, value)
    }

    /// Exports an environment variable to later steps of the job.
    pub fn export_env(&mut self, name: &str, value: &str) -> Result<(), FileCommandError> {
        self.write_key_value(FileCommand::Env, name, value)
    }

    /// Saves state for this action's post step, which reads it back with
    /// [`Runner::state`].
    pub fn save_state(&mut self, name: &str, value: &str) -> Result<(), FileCommandError> {
        self.write_key_value(FileCommand::State, name, value)
    }

    /// State saved by the main step, as the runner hands it to the post step.
    pub fn state(&self, name: &str) -> Option<&str> {
        self.env(&format!("STATE_{name}"))
    }

    /// Puts a directory on `PATH` for later steps.
    pub fn add_path(&mut self, path: &str) -> Result<(), FileCommandError> {
        let entry = files::path_entry(path)?;
        match self.file("GITHUB_PATH") {
            Some(file) => files::append("GITHUB_PATH", &file, &entry),
            None => Ok(()),
        }
    }

    /// Appends markdown to the job summary, cut to stay under the runner's
    /// 1 MiB limit; does nothing outside Actions.
    pub fn summary(&mut self, markdown: &str) -> Result<(), FileCommandError> {
        let Some(file) = self.file("GITHUB_STEP_SUMMARY") else {
            return Ok(());
        };
        let used = std::fs::metadata(&file).map(|meta| meta.len()).unwrap_or(0);
        let markdown = files::fit_summary(&self.console.redact(markdown), used);
        files::append("GITHUB_STEP_SUMMARY", &file, &markdown)
    }

    /// Writes `text` to stdout unredacted, for modes where stdout is a data
    /// protocol (an AWS `credential_process` answer). Never for logs.
    pub fn write_data(&mut self, text: &str) {
        self.console.write_raw(text);
    }

    fn file(&self, variable: &str) -> Option<PathBuf> {
        self.env(variable)
            .filter(|path| !path.is_empty())
            .map(PathBuf::from)
    }

    fn write_key_value(
        &mut self,
        command: FileCommand,
        name: &str,
        value: &str,
    ) -> Result<(), FileCommandError> {
        let entry = files::key_value_entry(command, name, value)?;
        match self.file(command.variable()) {
            Some(file) => files::append(command.variable(), &file, &entry),
            None if command == FileCommand::Output => {
                let line = if value.contains('\n') {
                    entry
                } else {
                    format!("{name}={value}")
                };
                self.console.info(line.trim_end());
                Ok(())
            }
            None => Ok(()),
        }
    }
}

/// Runs an action in this process: reads the environment and argv, and turns
/// the body's result into the exit code and one `::error::`.
pub fn main<E: Diagnostic>(
    spec: &'static ActionSpec,
    version: &'static str,
    body: impl FnOnce(&mut Runner) -> Result<(), E>,
) -> ExitCode {
    let env: Environment = std::env::vars_os()
        .map(|(key, value)| {
            (
                key.to_string_lossy().into_owned(),
                value.to_string_lossy().into_owned(),
            )
        })
        .collect();
    let args: Vec<String> = std::env::args_os()
        .skip(1)
        .map(|arg| arg.to_string_lossy().into_owned())
        .collect();
    run(
        spec,
        version,
        env,
        &args,
        Box::new(std::io::stdout()),
        Box::new(std::io::stderr()),
        body,
    )
}

/// [`main`] with the environment, argv and streams handed in.
pub fn run<E: Diagnostic>(
    spec: &'static ActionSpec,
    version: &'static str,
    env: Environment,
    args: &[String],
    out: Box<dyn Write + Send>,
    err: Box<dyn Write + Send>,
    body: impl FnOnce(&mut Runner) -> Result<(), E>,
) -> ExitCode {
    let parsed = cli::parse(spec, args);
    let data_mode = match &parsed {
        Ok(Invocation::Run(arguments)) => arguments.switches.iter().any(|name| {
            spec.switch(name)
                .is_some_and(|switch| switch.stdout_is_data)
        }),
        _ => false,
    };
    let mode = if data_mode {
        Mode::Data
    } else if env.get("GITHUB_ACTIONS").is_some_and(|v| v == "true") {
        Mode::Actions
    } else {
        Mode::Terminal
    };
    let debug = env.get("RUNNER_DEBUG").is_some_and(|v| v == "1");
    let mut console = Console::new(out, err, mode, debug);

    // Secrets first: nothing may be printed before they are masked.
    let mut values = BTreeMap::new();
    for input in spec.inputs {
        if let Some(value) = env
            .get(&input.env_name())
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
        {
            if input.kind == InputKind::Secret {
                console.mask(value);
            }
            values.insert(input.name, value.to_owned());
        }
    }

    let arguments = match parsed {
        Ok(Invocation::Run(arguments)) => arguments,
        Ok(Invocation::Help) => {
            console.write_raw(cli::help(spec, version).trim_end());
            return ExitCode::SUCCESS;
        }
        Ok(Invocation::Version) => {
            console.write_raw(&format!("{} {version}", spec.name));
            return ExitCode::SUCCESS;
        }
        Err(error) => return fail(&mut console, spec, &error),
    };
    values.extend(
        arguments
            .inputs
            .into_iter()
            .map(|(name, value)| (name, value.trim().to_owned())),
    );

    let mut runner = Runner {
        spec,
        env,
        inputs: Inputs::new(spec, values),
        switches: arguments.switches,
        console,
    };
    match body(&mut runner) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => fail(&mut runner.console, spec, &error),
    }
}

fn fail(console: &mut Console, spec: &ActionSpec, error: &dyn Diagnostic) -> ExitCode {
    let location = error.location();
    console.annotate(
        Level::Error,
        Some(spec.name),
        location.as_ref(),
        &render(error),
    );
    ExitCode::FAILURE
}
