use std::process::ExitCode;

fn main() -> ExitCode {
    ward::cli::main()
}
