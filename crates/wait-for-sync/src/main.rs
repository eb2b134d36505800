//! The `wait-for-sync` binary: reads the inputs, runs the library, reports.

fn main() -> std::process::ExitCode {
    hoist_runner::main(
        &wait_for_sync::SPEC,
        wait_for_sync::VERSION,
        wait_for_sync::run,
    )
}
