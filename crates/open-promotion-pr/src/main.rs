//! The `open-promotion-pr` binary: reads the inputs, runs the library, reports.

fn main() -> std::process::ExitCode {
    hoist_runner::main(
        &open_promotion_pr::SPEC,
        open_promotion_pr::VERSION,
        open_promotion_pr::run,
    )
}
