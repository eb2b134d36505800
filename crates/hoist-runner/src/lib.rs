//! The GitHub Actions runner contract, done once for every hoist action.
//!
//! A hoist binary behaves like a JavaScript action's `main`: it reads
//! `INPUT_*` variables, masks secrets before printing anything, writes
//! outputs through the runner's file commands with a fresh random delimiter,
//! and fails with exactly one `::error::` that says what to change. Outside
//! Actions the same binary is a command-line tool with a flag per input.
//!
//! This crate does no network I/O, and it is the only crate in hoist that
//! writes to stdout: stdout is the workflow-command channel.
//!
//! ```no_run
//! use hoist_runner::{ActionSpec, InputError, InputSpec, Runner};
//!
//! static SPEC: ActionSpec = ActionSpec {
//!     name: "greet",
//!     about: "Says hello.",
//!     inputs: &[InputSpec::new("who", "Whom to greet").required()],
//!     outputs: &[],
//!     switches: &[],
//!     dry_run: false,
//! };
//!
//! fn main() -> std::process::ExitCode {
//!     hoist_runner::main(&SPEC, "1.0.0", |runner: &mut Runner| -> Result<(), InputError> {
//!         let who = runner.inputs().required("who")?.to_owned();
//!         runner.console().info(&format!("hello, {who}"));
//!         Ok(())
//!     })
//! }
//! ```

pub mod cli;
pub mod console;
pub mod diagnostic;
pub mod files;
pub mod inputs;
pub mod private_file;
pub mod runner;
pub mod spec;
pub mod values;

pub use console::{Console, Level, Mode, Outside, neutralize};
pub use diagnostic::{Diagnostic, Location, one_line, render};
pub use files::FileCommandError;
pub use inputs::{InputError, Inputs};
pub use runner::{Environment, Runner, main, run};
pub use spec::{ActionSpec, InputKind, InputSpec, OutputSpec, SwitchSpec};
