//! `hoist`: the container action's entrypoint (see the library).
#![allow(clippy::print_stdout)]

use std::os::unix::process::CommandExt;
use std::process::ExitCode;

use hoist_entrypoint::{Invocation, binary_beside, dispatch};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let input = std::env::var("INPUT_COMMAND").ok();
    match dispatch(input.as_deref(), args) {
        Ok(Invocation::Version) => {
            println!("hoist {}", env!("CARGO_PKG_VERSION"));
            ExitCode::SUCCESS
        }
        Ok(Invocation::Run { command, args }) => {
            let binary = std::env::current_exe()
                .map(|own| binary_beside(&own, command))
                .unwrap_or_else(|_| command.into());
            // `exec` returns only when the binary could not be started.
            let error = std::process::Command::new(&binary).args(args).exec();
            println!(
                "::error title=hoist::could not start {}: {error}%0AHint: the image holds the six actions in /usr/local/bin; rebuild it from actions/container/Dockerfile",
                binary.display()
            );
            ExitCode::FAILURE
        }
        Err(refused) => {
            println!("{}", refused.annotation());
            ExitCode::FAILURE
        }
    }
}
