//! Generations on disk: `<root>/CURRENT` names the live `gen-N` directory.
//!
//! A rebuild fills `gen-(N+1)` while `gen-N` keeps serving, then replaces `CURRENT` by a
//! rename (atomic on POSIX file systems). A process that finds `CURRENT` changed switches to
//! the new generation; the old one is removed by whoever holds no reader on it any more
//! (best effort: a leftover generation is removed at the next switch).

use crate::{Error, Result};
use std::path::{Path, PathBuf};

const CURRENT: &str = "CURRENT";
const PREFIX: &str = "gen-";

/// The index's root directory (`<data_dir>/index`).
#[derive(Debug, Clone)]
pub struct IndexDir {
    root: PathBuf,
}

impl IndexDir {
    pub fn new(root: impl Into<PathBuf>) -> IndexDir {
        IndexDir { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The live generation's directory, if there is one.
    pub fn current(&self) -> Result<Option<PathBuf>> {
        let path = self.root.join(CURRENT);
        match std::fs::read_to_string(&path) {
            Ok(name) => {
                let name = name.trim();
                let valid = name
                    .strip_prefix(PREFIX)
                    .is_some_and(|n| n.parse::<u64>().is_ok());
                Ok(valid.then(|| self.root.join(name)).filter(|p| p.is_dir()))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::io(&path)(e)),
        }
    }

    fn generations(&self) -> Result<Vec<(u64, PathBuf)>> {
        let mut out = Vec::new();
        let entries = match std::fs::read_dir(&self.root) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
            Err(e) => return Err(Error::io(&self.root)(e)),
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            if let Some(n) = name
                .to_str()
                .and_then(|n| n.strip_prefix(PREFIX))
                .and_then(|n| n.parse::<u64>().ok())
            {
                out.push((n, entry.path()));
            }
        }
        out.sort();
        Ok(out)
    }

    /// A new, empty generation directory, numbered after every existing one.
    pub fn create_next(&self) -> Result<PathBuf> {
        std::fs::create_dir_all(&self.root).map_err(Error::io(&self.root))?;
        let next = self.generations()?.last().map_or(1, |(n, _)| n + 1);
        let path = self.root.join(format!("{PREFIX}{next}"));
        std::fs::create_dir(&path).map_err(Error::io(&path))?;
        Ok(path)
    }

    /// Makes `gen` the live generation, atomically.
    pub fn make_current(&self, gen_dir: &Path) -> Result<()> {
        let name = gen_dir
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or_else(|| Error::Io {
                path: gen_dir.display().to_string(),
                source: std::io::Error::other("not a generation directory"),
            })?;
        let tmp = self.root.join("CURRENT.tmp");
        {
            use std::io::Write;
            let mut f = std::fs::File::create(&tmp).map_err(Error::io(&tmp))?;
            f.write_all(name.as_bytes()).map_err(Error::io(&tmp))?;
            f.sync_all().map_err(Error::io(&tmp))?;
        }
        let current = self.root.join(CURRENT);
        std::fs::rename(&tmp, &current).map_err(Error::io(&current))?;
        // Make the rename itself durable.
        if let Ok(d) = std::fs::File::open(&self.root) {
            let _ = d.sync_all();
        }
        Ok(())
    }

    /// Removes the generations older than `keep` (best effort; logs what it cannot
    /// remove). Newer ones may be a rebuild in progress in another process.
    pub fn remove_older(&self, keep: &Path) {
        let Ok(gens) = self.generations() else { return };
        let Some(keep_n) = gens.iter().find(|(_, p)| p == keep).map(|(n, _)| *n) else {
            return;
        };
        for (n, path) in gens {
            if n < keep_n
                && let Err(e) = std::fs::remove_dir_all(&path)
            {
                tracing::warn!(path = %path.display(), error = %e, "cannot remove an old index generation");
            }
        }
    }
}
