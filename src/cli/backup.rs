//! `ward backup` and `ward restore`: what they print (the work is `app::backup`).

use std::path::Path;

use super::output::time;
use super::{CliError, actor};
use crate::app::AppContext;
use crate::app::backup::{self, Restored};

pub fn create(ctx: &AppContext, file: &Path) -> Result<(), CliError> {
    let m = backup::create(ctx, file, &actor())?;
    println!(
        "backup written to {}: {} bytes of database, sha256 {}, taken {}",
        file.display(),
        m.image_bytes,
        m.image_sha256,
        time(m.created_at)
    );
    println!(
        "it needs master key {} to be restored: keep that key safe, apart from the backup",
        m.master_key_id
    );
    Ok(())
}

pub fn print_restored(file: &Path, r: &Restored) {
    println!(
        "restored {} (taken {} by Ward {}, sha256 {})",
        file.display(),
        time(r.manifest.created_at),
        r.manifest.ward_version,
        r.manifest.image_sha256
    );
    if let Some(previous) = &r.previous {
        println!("the database it replaced is kept as {}", previous.display());
    }
    println!("audit chain intact: {} records verified", r.verified);
}
