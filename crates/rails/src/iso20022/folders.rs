//! The host-to-host folder pair, as a careful SFTP client uses it: a file is written under a
//! `.part` name, flushed to disk with its folder, and renamed, so the bank never reads half a
//! file; a file from the bank is claimed by renaming it before it is read, so of several nodes
//! watching one folder exactly one takes it.

use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Where the inbox keeps what it has dealt with.
pub const CLAIMED: &str = "claimed";
pub const DONE: &str = "done";
pub const IGNORED: &str = "ignored";
pub const REJECTED: &str = "rejected";

/// A claim older than this belongs to a node that stopped half-way: another node takes it.
pub const STALE_CLAIM: Duration = Duration::from_secs(300);

/// Writes `name` in `dir` whole or not at all: `fill` writes the content into a `.part`
/// file, which is synced, renamed, and its folder synced.
pub fn write_whole(
    dir: &Path,
    name: &str,
    fill: impl FnOnce(&mut BufWriter<File>) -> io::Result<()>,
) -> io::Result<PathBuf> {
    let part = dir.join(format!(".{name}.{}.part", std::process::id()));
    let result = (|| {
        let mut out = BufWriter::with_capacity(1 << 16, File::create(&part)?);
        fill(&mut out)?;
        out.flush()?;
        let file = out.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        let target = dir.join(name);
        fs::rename(&part, &target)?;
        File::open(dir)?.sync_all()?;
        Ok(target)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&part);
    }
    result
}

fn millis_now() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis())
}

/// The name a claimed file goes by: when it was claimed, then its own name.
fn claim_name(original: &str) -> String {
    format!("{:013}-{original}", millis_now())
}

/// A claimed file's own name.
pub fn original_name(claimed: &str) -> &str {
    claimed.split_once('-').map_or(claimed, |(_, name)| name)
}

fn claimed_at(claimed: &str) -> Option<u128> {
    claimed
        .split_once('-')
        .and_then(|(stamp, _)| stamp.parse().ok())
}

/// Whether the bank may still be writing it, or it is not a message at all.
fn skipped(name: &str) -> bool {
    name.starts_with('.') || name.ends_with(".part") || name.ends_with(".tmp")
}

/// Makes the inbox's folders.
pub fn prepare(inbox: &Path) -> io::Result<()> {
    for sub in [CLAIMED, DONE, IGNORED, REJECTED] {
        fs::create_dir_all(inbox.join(sub))?;
    }
    Ok(())
}

/// Claims every file waiting in `inbox`, and every claim gone stale; answers the claimed
/// names (inside `inbox/claimed`), oldest first.
pub fn claim_all(inbox: &Path) -> io::Result<Vec<String>> {
    let claimed_dir = inbox.join(CLAIMED);
    let mut names: Vec<String> = Vec::new();
    let mut waiting: Vec<String> = Vec::new();
    for entry in fs::read_dir(inbox)? {
        let entry = entry?;
        if !entry.file_type()?.is_file() {
            continue;
        }
        if let Some(name) = entry.file_name().to_str()
            && !skipped(name)
        {
            waiting.push(name.to_owned());
        }
    }
    waiting.sort();
    for name in waiting {
        let claim = claim_name(&name);
        match fs::rename(inbox.join(&name), claimed_dir.join(&claim)) {
            Ok(()) => names.push(claim),
            // Another node claimed it first.
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
    }
    let stale_before = millis_now().saturating_sub(STALE_CLAIM.as_millis());
    for entry in fs::read_dir(&claimed_dir)? {
        let entry = entry?;
        let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
            continue;
        };
        if claimed_at(&name).is_some_and(|at| at < stale_before) {
            let claim = claim_name(original_name(&name));
            match fs::rename(claimed_dir.join(&name), claimed_dir.join(&claim)) {
                Ok(()) => names.push(claim),
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
    }
    Ok(names)
}

/// Moves a claimed file into `inbox/{to}` under its own name (made unique if taken); with
/// `note`, writes the note beside it as `NAME.why.txt`.
pub fn settle(inbox: &Path, claimed: &str, to: &str, note: Option<&str>) -> io::Result<PathBuf> {
    let dir = inbox.join(to);
    let original = original_name(claimed);
    let mut target = dir.join(original);
    let mut n = 1;
    while target.exists() {
        n += 1;
        target = dir.join(format!("{original}.{n}"));
    }
    if let Some(note) = note {
        let name = target
            .file_name()
            .and_then(|n| n.to_str())
            .map_or_else(|| format!("{original}.why.txt"), |n| format!("{n}.why.txt"));
        write_whole(&dir, &name, |out| writeln!(out, "{note}"))?;
    }
    fs::rename(inbox.join(CLAIMED).join(claimed), &target)?;
    Ok(target)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_is_claimed_once_and_half_written_files_are_left() -> io::Result<()> {
        let dir = tempfile::tempdir()?;
        prepare(dir.path())?;
        fs::write(dir.path().join("a.xml"), "<a/>")?;
        fs::write(dir.path().join("b.xml.tmp"), "<b")?;
        fs::write(dir.path().join(".c.xml"), "<c")?;
        let first = claim_all(dir.path())?;
        assert_eq!(first.len(), 1);
        assert_eq!(original_name(&first[0]), "a.xml");
        assert!(claim_all(dir.path())?.is_empty(), "claimed once");
        let done = settle(dir.path(), &first[0], DONE, None)?;
        assert_eq!(done, dir.path().join(DONE).join("a.xml"));
        fs::write(dir.path().join("a.xml"), "<a/>")?;
        let again = claim_all(dir.path())?;
        let rejected = settle(dir.path(), &again[0], DONE, Some("why"))?;
        assert_eq!(rejected, dir.path().join(DONE).join("a.xml.2"));
        assert!(dir.path().join(DONE).join("a.xml.2.why.txt").exists());
        Ok(())
    }

    #[test]
    fn a_file_is_written_whole_or_not_at_all() -> io::Result<()> {
        let dir = tempfile::tempdir()?;
        let failed = write_whole(dir.path(), "x.xml", |out| {
            out.write_all(b"<half")?;
            Err(io::Error::other("disk full"))
        });
        assert!(failed.is_err());
        assert_eq!(fs::read_dir(dir.path())?.count(), 0, "nothing left behind");
        write_whole(dir.path(), "x.xml", |out| out.write_all(b"<whole/>"))?;
        assert_eq!(fs::read_to_string(dir.path().join("x.xml"))?, "<whole/>");
        Ok(())
    }
}
