//! Secrets come from standard input or an interactive prompt, never from argv
//! (which other local users can read in /proc and which lands in shell history).

use std::io::{BufRead, IsTerminal};

use super::CliError;

pub fn read_secret(prompt: &str, confirm: bool) -> Result<String, CliError> {
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password(prompt)
            .map_err(|e| CliError::Failed(format!("cannot read from the terminal: {e}")))?;
        if confirm {
            let again = rpassword::prompt_password("Repeat: ")
                .map_err(|e| CliError::Failed(format!("cannot read from the terminal: {e}")))?;
            if again != first {
                return Err(CliError::Usage("the two entries differ".into()));
            }
        }
        return Ok(first);
    }
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| CliError::Failed(format!("cannot read standard input: {e}")))?;
    let value = line.trim_end_matches(['\n', '\r']).to_string();
    if value.is_empty() {
        return Err(CliError::Usage(format!(
            "{} expected on standard input",
            prompt.trim_end_matches([':', ' '])
        )));
    }
    Ok(value)
}
