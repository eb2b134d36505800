//! The `sign` binary: reads the inputs, runs the library, reports.

fn main() -> std::process::ExitCode {
    hoist_runner::main(&sign::SPEC, sign::VERSION, sign::run)
}
