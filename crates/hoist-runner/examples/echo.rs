//! A tiny action built on the runner contract, used by hoist-runner's own
//! tests and as the shortest example of a hoist binary: it reads its
//! inputs, masks its secret, and echoes them back as outputs.

use std::process::ExitCode;

use hoist_runner::{
    ActionSpec, Diagnostic, InputError, InputKind, InputSpec, OutputSpec, Runner, SwitchSpec,
};

static SPEC: ActionSpec = ActionSpec {
    name: "echo",
    about: "Echoes its inputs back as outputs.",
    inputs: &[
        InputSpec::new("message", "The text to echo").required(),
        InputSpec::new("tags", "Tags, one per line"),
        InputSpec::new("timeout", "A duration").default("10m"),
        InputSpec::new("loud", "Also log the message").kind(InputKind::Bool),
        InputSpec::new("token", "A secret to mask").kind(InputKind::Secret),
        InputSpec::new("fail", "Fail with this reason"),
    ],
    outputs: &[
        OutputSpec {
            name: "message",
            description: "The message",
        },
        OutputSpec {
            name: "tags",
            description: "The tags, comma-joined",
        },
        OutputSpec {
            name: "timeout-ms",
            description: "The timeout in milliseconds",
        },
    ],
    switches: &[
        SwitchSpec {
            name: "cleanup",
            description: "Print the saved state and stop",
            stdout_is_data: false,
        },
        SwitchSpec {
            name: "json",
            description: "Print the message as JSON on stdout, nothing else",
            stdout_is_data: true,
        },
    ],
    dry_run: true,
};

/// Why the echo failed.
#[derive(Debug, thiserror::Error)]
enum EchoError {
    /// An input was wrong.
    #[error(transparent)]
    Input(#[from] InputError),
    /// The runner's files could not be written.
    #[error(transparent)]
    Files(#[from] hoist_runner::FileCommandError),
    /// The caller asked for a failure.
    #[error("asked to fail: {0}")]
    Asked(String),
}

impl Diagnostic for EchoError {
    fn hint(&self) -> Option<String> {
        match self {
            Self::Input(error) => error.hint(),
            Self::Files(error) => error.hint(),
            Self::Asked(_) => Some("remove the `fail` input".to_owned()),
        }
    }
}

fn echo(runner: &mut Runner) -> Result<(), EchoError> {
    if runner.switch("cleanup") {
        let saved = runner.state("echoed").unwrap_or("nothing").to_owned();
        runner
            .console()
            .info(&format!("cleanup: saved state was {saved}"));
        return Ok(());
    }
    let inputs = runner.inputs();
    let message = inputs.required("message")?.to_owned();
    let tags = inputs.lines("tags").join(",");
    let timeout = inputs.duration("timeout")?.unwrap_or_default();
    let loud = inputs.bool("loud")?;
    let fail = inputs.get("fail").map(String::from);
    let token = inputs.get("token").map(String::from);

    if runner.switch("json") {
        runner
            .console()
            .info("this line goes to stderr in data mode");
        runner.write_data(&format!("{{\"message\":{message:?}}}"));
        return Ok(());
    }

    runner.console().debug(&format!("timeout is {timeout:?}"));
    if let Some(reason) = fail {
        return Err(EchoError::Asked(reason));
    }
    if loud {
        runner
            .console()
            .group("Message", |console| console.info(&message));
    }
    if let Some(token) = token {
        runner.console().info(&format!("the token is {token}"));
    }
    if runner.dry_run() {
        runner.console().info("dry run: nothing written");
        return Ok(());
    }
    runner.set_output("message", &message)?;
    runner.set_output("tags", &tags)?;
    runner.set_output("timeout-ms", &timeout.as_millis().to_string())?;
    runner.export_env("ECHO_MESSAGE", &message)?;
    runner.save_state("echoed", "yes")?;
    runner.summary(&format!("### echo\n\n{message}\n"))?;
    Ok(())
}

fn main() -> ExitCode {
    hoist_runner::main(&SPEC, env!("CARGO_PKG_VERSION"), echo)
}
