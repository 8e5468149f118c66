//! The backup file: one file, a header then the database image (docs/backup.md).
//!
//! ```text
//! WARD-BACKUP 1\n                      the magic line: the format and its version
//! {"ward_version":…, …}\n              the manifest, one line of JSON (at most 64 KiB)
//! <image_bytes bytes>                  the SQLite database file, nothing after it
//! ```
//!
//! The manifest says how long the image is and its SHA-256, so a truncated or
//! damaged file is told apart from a sound one before anything reads the
//! image as a database. It carries the master key's id and the sealed check
//! value (the same the image holds in `ward_meta`), so a restore can tell
//! whether the configured key opens the backup; never the key itself.

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The first line of every backup file.
pub const MAGIC: &str = "WARD-BACKUP 1";
const MAX_MANIFEST: u64 = 64 * 1024;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// The Ward that wrote the backup (`CARGO_PKG_VERSION`).
    pub ward_version: String,
    /// When the copy was taken (Unix ms).
    pub created_at: i64,
    /// Always "sqlite": PostgreSQL is backed up with pg_dump.
    pub database: String,
    pub image_bytes: u64,
    /// Lower-case hex SHA-256 of the image.
    pub image_sha256: String,
    /// The id of the master key that sealed the image's secrets.
    pub master_key_id: String,
    /// The sealed check value (`ward_meta.master_key_check`): only that key opens it.
    pub master_key_check: String,
}

#[derive(Debug, thiserror::Error)]
pub enum FormatError {
    #[error("not a Ward backup file (its first line is not `{MAGIC}`)")]
    NotABackup,
    #[error("the backup's manifest is unreadable: {0}")]
    Manifest(String),
    #[error(
        "the backup file is truncated: the manifest announces {expected} bytes of database image, the file holds {found}"
    )]
    Truncated { expected: u64, found: u64 },
    #[error("the backup file has {0} unexpected bytes after the database image")]
    Trailing(u64),
    #[error(
        "the backup file is damaged: the database image's SHA-256 is {found}, the manifest says {expected}"
    )]
    HashMismatch { expected: String, found: String },
    #[error("{0}")]
    Io(String),
}

fn io(what: &str, path: &Path) -> impl Fn(std::io::Error) -> FormatError {
    let at = format!("{what} {}", path.display());
    move |e| FormatError::Io(format!("{at}: {e}"))
}

/// SHA-256 and length of a file, read in blocks.
pub fn digest(path: &Path) -> Result<(String, u64), FormatError> {
    let mut file = File::open(path).map_err(io("cannot read", path))?;
    let mut hasher = Sha256::new();
    let n =
        std::io::copy(&mut file, &mut HashWriter(&mut hasher)).map_err(io("cannot read", path))?;
    Ok((hex::encode(hasher.finalize()), n))
}

struct HashWriter<'a>(&'a mut Sha256);

impl Write for HashWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A new file readable by its owner only (it holds every user's data); never
/// an existing one.
pub fn create_private(path: &Path) -> std::io::Result<File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}

/// Write the header and the image at `image` to the new file `out`, and make it durable.
pub fn write(out: &Path, manifest: &Manifest, image: &Path) -> Result<(), FormatError> {
    let mut file = create_private(out).map_err(io("cannot create", out))?;
    let line = serde_json::to_string(manifest).map_err(|e| FormatError::Io(e.to_string()))?;
    let mut source = File::open(image).map_err(io("cannot read", image))?;
    write_all(&mut file, &line, &mut source).map_err(io("cannot write", out))
}

fn write_all(file: &mut File, manifest: &str, image: &mut File) -> std::io::Result<()> {
    writeln!(file, "{MAGIC}")?;
    writeln!(file, "{manifest}")?;
    std::io::copy(image, file)?;
    file.sync_all()
}

/// Read the header of `backup`, copy its image into the new file `image`
/// (fsynced), and check the image's length and hash against the manifest.
pub fn unpack(backup: &Path, image: &Path) -> Result<Manifest, FormatError> {
    let file = File::open(backup).map_err(io("cannot read", backup))?;
    let mut reader = BufReader::new(file);
    let mut magic = Vec::new();
    (&mut reader)
        .take(MAGIC.len() as u64 + 1)
        .read_until(b'\n', &mut magic)
        .map_err(io("cannot read", backup))?;
    if magic.strip_suffix(b"\n") != Some(MAGIC.as_bytes()) {
        return Err(FormatError::NotABackup);
    }
    let mut line = Vec::new();
    (&mut reader)
        .take(MAX_MANIFEST)
        .read_until(b'\n', &mut line)
        .map_err(io("cannot read", backup))?;
    if line.last() != Some(&b'\n') {
        return Err(FormatError::Manifest("no complete manifest line".into()));
    }
    let manifest: Manifest =
        serde_json::from_slice(&line).map_err(|e| FormatError::Manifest(e.to_string()))?;
    let mut out = create_private(image).map_err(io("cannot create", image))?;
    let mut hasher = Sha256::new();
    let copied = copy_hashing(&mut reader, &mut out, &mut hasher, manifest.image_bytes)
        .map_err(io("cannot copy the image to", image))?;
    if copied < manifest.image_bytes {
        return Err(FormatError::Truncated {
            expected: manifest.image_bytes,
            found: copied,
        });
    }
    let trailing =
        std::io::copy(&mut reader, &mut std::io::sink()).map_err(io("cannot read", backup))?;
    if trailing > 0 {
        return Err(FormatError::Trailing(trailing));
    }
    let found = hex::encode(hasher.finalize());
    if found != manifest.image_sha256 {
        return Err(FormatError::HashMismatch {
            expected: manifest.image_sha256,
            found,
        });
    }
    out.sync_all().map_err(io("cannot write", image))?;
    Ok(manifest)
}

/// Copy at most `limit` bytes, hashing them; returns how many there were.
fn copy_hashing(
    from: &mut impl Read,
    to: &mut impl Write,
    hasher: &mut Sha256,
    limit: u64,
) -> std::io::Result<u64> {
    let mut buf = vec![0u8; 64 * 1024];
    let mut from = from.take(limit);
    let mut total = 0;
    loop {
        let n = from.read(&mut buf)?;
        if n == 0 {
            return Ok(total);
        }
        hasher.update(&buf[..n]);
        to.write_all(&buf[..n])?;
        total += n as u64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest_for(image: &Path) -> Manifest {
        let (image_sha256, image_bytes) = digest(image).unwrap();
        Manifest {
            ward_version: "0.1.0".into(),
            created_at: 1_700_000_000_000,
            database: "sqlite".into(),
            image_bytes,
            image_sha256,
            master_key_id: "abcdef012345".into(),
            master_key_check: "ward1.abcdef012345.AAAA".into(),
        }
    }

    fn written() -> (tempfile::TempDir, std::path::PathBuf, Vec<u8>) {
        let dir = tempfile::tempdir().unwrap();
        let image = dir.path().join("image");
        let bytes: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        std::fs::write(&image, &bytes).unwrap();
        let out = dir.path().join("b.wardbak");
        write(&out, &manifest_for(&image), &image).unwrap();
        (dir, out, bytes)
    }

    #[test]
    fn what_is_written_unpacks_to_the_same_image() {
        let (dir, out, bytes) = written();
        let back = dir.path().join("back");
        let m = unpack(&out, &back).unwrap();
        assert_eq!(m.image_bytes, bytes.len() as u64);
        assert_eq!(std::fs::read(&back).unwrap(), bytes);
        let text = std::fs::read(&out).unwrap();
        assert!(text.starts_with(b"WARD-BACKUP 1\n{\"ward_version\":\"0.1.0\""));
    }

    #[test]
    fn truncation_damage_and_strangers_are_named() {
        let (dir, out, _) = written();
        let all = std::fs::read(&out).unwrap();
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (all[..all.len() - 1000].to_vec(), "truncated"),
            (all[..20].to_vec(), "manifest"),
            ([&all[..], b"x"].concat(), "after the database image"),
            (
                {
                    let mut d = all.clone();
                    let i = d.len() - 5;
                    d[i] ^= 1;
                    d
                },
                "SHA-256",
            ),
            (b"SQLite format 3\0".to_vec(), "not a Ward backup"),
        ];
        for (i, (bytes, expected)) in cases.into_iter().enumerate() {
            let bad = dir.path().join(format!("bad{i}"));
            std::fs::write(&bad, bytes).unwrap();
            let err = unpack(&bad, &dir.path().join(format!("img{i}")))
                .unwrap_err()
                .to_string();
            assert!(err.contains(expected), "case {i}: {err}");
        }
    }

    #[test]
    fn never_overwrites() {
        let (dir, out, _) = written();
        let before = std::fs::read(&out).unwrap();
        let image = dir.path().join("image");
        assert!(write(&out, &manifest_for(&image), &image).is_err());
        assert_eq!(std::fs::read(&out).unwrap(), before);
    }
}
