//! The `oidc-assume` binary: reads the inputs, runs the library, reports.

fn main() -> std::process::ExitCode {
    hoist_runner::main(&oidc_assume::SPEC, oidc_assume::VERSION, oidc_assume::run)
}
