//! The `bump-manifest` binary: reads the inputs, runs the library, reports.

fn main() -> std::process::ExitCode {
    hoist_runner::main(
        &bump_manifest::SPEC,
        bump_manifest::VERSION,
        bump_manifest::run,
    )
}
