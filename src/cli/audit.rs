use std::io::Write;

use clap::{Subcommand, ValueEnum};

use super::output::{self, opt, time};
use super::{CliError, actor};
use crate::app::AppContext;
use crate::manage::audit_log;

#[derive(Clone, Copy, ValueEnum)]
pub enum ExportFormat {
    Jsonl,
}

#[derive(Subcommand)]
pub enum AuditCommand {
    /// Chain pending records, then check the whole chain; exits 1 if it is broken.
    Verify {
        #[arg(long)]
        json: bool,
    },
    /// Show the newest records.
    Tail {
        #[arg(short = 'n', long, default_value_t = 20)]
        lines: i64,
        #[arg(long)]
        json: bool,
    },
    /// Write every record, oldest first.
    Export {
        #[arg(long, value_enum)]
        format: ExportFormat,
        /// File to write (default: standard output).
        #[arg(long)]
        output: Option<std::path::PathBuf>,
    },
}

pub fn run(ctx: &AppContext, command: AuditCommand) -> Result<(), CliError> {
    let actor = actor();
    match command {
        AuditCommand::Verify { json } => {
            let report = audit_log::verify(ctx, &actor)?;
            if json {
                output::json(&report)?;
            } else if report.ok {
                println!("audit chain intact: {} records verified", report.verified);
            }
            match (report.first_bad_id, report.first_bad_seq, &report.problem) {
                (Some(id), Some(seq), Some(problem)) => Err(CliError::Failed(format!(
                    "audit chain broken at record id {id} (chain position {seq}): {problem}; {} records before it verified",
                    report.verified
                ))),
                _ => Ok(()),
            }
        }
        AuditCommand::Tail { lines, json } => {
            let records = audit_log::tail(ctx, &actor, lines)?;
            if json {
                return output::json(&records);
            }
            for r in &records {
                println!(
                    "{} #{} {} {} actor={} user={} client={} reason={} {}",
                    time(r.recorded_at),
                    r.id,
                    r.event_type,
                    r.outcome,
                    r.actor,
                    opt(&r.subject_user),
                    opt(&r.client_id),
                    opt(&r.reason),
                    r.details
                );
            }
            Ok(())
        }
        AuditCommand::Export {
            format: ExportFormat::Jsonl,
            output,
        } => {
            // A file export is written beside the target and renamed into place only
            // when complete: a failed export never leaves a truncated file behind.
            let partial = output.as_ref().map(|p| {
                let mut name = p.file_name().unwrap_or_default().to_os_string();
                name.push(".partial");
                p.with_file_name(name)
            });
            let mut out: Box<dyn Write> = match &partial {
                Some(p) => Box::new(std::io::BufWriter::new(std::fs::File::create(p).map_err(
                    |e| CliError::Failed(format!("cannot create {}: {e}", p.display())),
                )?)),
                None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
            };
            let count = audit_log::export(ctx, &actor, |r| {
                serde_json::to_writer(&mut out, r).map_err(std::io::Error::other)?;
                out.write_all(b"\n")
            })?;
            out.flush().map_err(|e| CliError::Failed(e.to_string()))?;
            drop(out);
            if let (Some(partial), Some(target)) = (&partial, &output) {
                std::fs::rename(partial, target).map_err(|e| {
                    CliError::Failed(format!("cannot write {}: {e}", target.display()))
                })?;
            }
            if output.is_some() {
                eprintln!("exported {count} records");
            }
            Ok(())
        }
    }
}
