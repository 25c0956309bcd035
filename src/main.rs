use std::process::ExitCode;

fn main() -> ExitCode {
    agendor_sync::cli::main()
}
