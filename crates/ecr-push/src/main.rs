//! The `ecr-push` binary: reads the inputs, runs the library, reports.

fn main() -> std::process::ExitCode {
    hoist_runner::main(&ecr_push::SPEC, ecr_push::VERSION, ecr_push::run)
}
