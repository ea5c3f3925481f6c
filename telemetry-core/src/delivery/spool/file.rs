//! One spool file held by this process: created locked, appended to within
//! `RLIMIT_FSIZE`, rewritten through a locked temporary. Every spool
//! descriptor is a [`Held`], so that [`peak_open_files`] can tell how many
//! this process held at most.

use super::{now_us, spool_name, temp_name, SpoolError};
use crate::files;
use std::fs::{self, File, OpenOptions};
use std::io::{self, ErrorKind, Read, Seek, SeekFrom, Write};
use std::ops::{Deref, DerefMut};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

static OPEN: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

/// The most spool descriptors this process has held at once.
#[must_use]
pub fn peak_open_files() -> usize {
    PEAK.load(Ordering::Relaxed)
}

/// A spool descriptor, counted while open.
#[derive(Debug)]
pub(super) struct Held(File);

impl Held {
    pub(super) fn new(file: File) -> Held {
        let open = OPEN.fetch_add(1, Ordering::Relaxed) + 1;
        PEAK.fetch_max(open, Ordering::Relaxed);
        Held(file)
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        OPEN.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Deref for Held {
    type Target = File;

    fn deref(&self) -> &File {
        &self.0
    }
}

impl DerefMut for Held {
    fn deref_mut(&mut self) -> &mut File {
        &mut self.0
    }
}

/// A spool file this process owns: open for appending, and locked.
#[derive(Debug)]
pub struct SpoolFile {
    pub(super) file: Held,
    pub(super) path: PathBuf,
    /// The file's length as this process knows it.
    pub(super) len: u64,
}

impl SpoolFile {
    /// Creates this process's spool file in `dir` (created 0700 if
    /// missing), mode 0600, without following links, and locks it; its
    /// order is now.
    pub fn create(dir: &Path) -> Result<SpoolFile, SpoolError> {
        files::create_dir(dir).map_err(|error| SpoolError::from_write(&error))?;
        let path = spool_name(dir, now_us());
        let file = locked_temp_renamed_to(dir, &path, |_| Ok(()))?;
        Ok(SpoolFile { file, path, len: 0 })
    }

    /// A claimed file, locked by this process, under its new name.
    pub(super) fn claimed(file: Held, path: PathBuf) -> SpoolFile {
        let len = file.metadata().map_or(0, |meta| meta.len());
        SpoolFile { file, path, len }
    }

    /// Appends one record (its wire JSON, without a newline) as one line,
    /// in a single write; refused whole when it would pass `RLIMIT_FSIZE`.
    pub fn append_record(&mut self, line: &mut String) -> Result<(), SpoolError> {
        line.push('\n');
        let written = self.append_bytes(line.as_bytes());
        line.pop();
        written
    }

    /// Appends an acknowledgement of these records' `event_id`s; returns
    /// the bytes written.
    pub fn append_ack<'a>(
        &mut self,
        ids: impl IntoIterator<Item = &'a str>,
    ) -> Result<u64, SpoolError> {
        let ids: Vec<&str> = ids.into_iter().collect();
        if ids.is_empty() {
            return Ok(0);
        }
        let mut line = serde_json::to_string(&serde_json::json!({ "ack": ids }))
            .map_err(|_| SpoolError::Io(ErrorKind::InvalidData))?;
        line.push('\n');
        self.append_bytes(line.as_bytes())?;
        Ok(line.len() as u64)
    }

    /// Appends whole lines in one write, within `RLIMIT_FSIZE`.
    pub(super) fn append_bytes(&mut self, bytes: &[u8]) -> Result<(), SpoolError> {
        if files::fsize_room(self.len) < bytes.len() as u64 {
            return Err(SpoolError::FileSizeLimit);
        }
        self.file
            .write_all(bytes)
            .map_err(|error| SpoolError::from_write(&error))?;
        self.len += bytes.len() as u64;
        Ok(())
    }

    /// Replaces the file by one holding only these byte ranges of it
    /// (`(offset, len)`, in order, each ending a line), under the same name
    /// and still locked; returns the new file's length. See "Compaction" in
    /// the module docs for why no claimer can take either file meanwhile.
    /// On failure the file is left as it was.
    pub fn rewrite(&mut self, spans: &[(u64, u64)]) -> Result<u64, SpoolError> {
        let io = |error: io::Error| SpoolError::Io(error.kind());
        let start = spans.first().map_or(0, |&(offset, _)| offset);
        self.file.seek(SeekFrom::Start(start)).map_err(io)?;
        let mut old = Vec::new();
        (*self.file).read_to_end(&mut old).map_err(io)?;
        let mut kept = Vec::with_capacity(old.len());
        for &(offset, len) in spans {
            let from = offset
                .checked_sub(start)
                .and_then(|from| usize::try_from(from).ok())
                .unwrap_or(usize::MAX);
            let to = from.saturating_add(usize::try_from(len).unwrap_or(usize::MAX));
            // The file is not what this process wrote (changed behind its
            // back): leave it alone.
            let Some(line) = old.get(from..to) else {
                return Err(SpoolError::Io(ErrorKind::InvalidData));
            };
            if line.last() != Some(&b'\n') {
                return Err(SpoolError::Io(ErrorKind::InvalidData));
            }
            kept.extend_from_slice(line);
        }
        drop(old);
        self.replace(&kept)
    }

    /// Replaces the file by one holding `content` (whole lines), under the
    /// same name and still locked, through a locked temporary (see
    /// [`rewrite`](SpoolFile::rewrite)); returns the new length.
    pub(super) fn replace(&mut self, content: &[u8]) -> Result<u64, SpoolError> {
        let dir = self.path.parent().unwrap_or(Path::new("."));
        // Synced before it replaces the old file: a crash of the machine
        // must not leave the name with nothing behind it.
        let file = locked_temp_renamed_to(dir, &self.path, |file| {
            if files::fsize_room(0) < content.len() as u64 {
                return Err(SpoolError::FileSizeLimit);
            }
            file.write_all(content)
                .map_err(|error| SpoolError::from_write(&error))?;
            file.sync_data()
                .map_err(|error| SpoolError::from_write(&error))
        })?;
        // The old file's lock goes only now, once the name is the new one.
        self.file = file;
        self.len = content.len() as u64;
        Ok(self.len)
    }

    /// Empties the file: every record in it was acknowledged.
    pub fn truncate(&mut self) -> Result<(), SpoolError> {
        self.file
            .set_len(0)
            .map_err(|error| SpoolError::from_write(&error))?;
        self.len = 0;
        Ok(())
    }

    /// Flushes the file's data to the disk.
    pub fn sync(&self) -> Result<(), SpoolError> {
        self.file
            .sync_data()
            .map_err(|error| SpoolError::from_write(&error))
    }

    /// Removes the file (its records were all delivered or dropped); the
    /// lock goes with it.
    pub fn remove(self) -> Result<(), SpoolError> {
        fs::remove_file(&self.path).map_err(|error| SpoolError::from_write(&error))
    }

    /// Whether the file still has its name: `false` once another process
    /// deleted it (an opt-out).
    #[must_use]
    pub fn still_named(&self) -> bool {
        files::names_file(&self.file, &self.path)
    }

    /// The file's path (for tests; never logged).
    #[cfg(test)]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The file's length.
    #[must_use]
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether the file is empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// Creates a temporary in `dir` (0600, `O_EXCL`, no link followed), locks
/// it before anything is written, lets `fill` write it, then renames it to
/// `path`: the name never names a file that is unlocked or half-written. On
/// failure the temporary is removed.
fn locked_temp_renamed_to(
    dir: &Path,
    path: &Path,
    fill: impl FnOnce(&mut File) -> Result<(), SpoolError>,
) -> Result<Held, SpoolError> {
    let temp = temp_name(dir);
    let mut options = OpenOptions::new();
    options.read(true).append(true).create_new(true);
    files::private_mode(&mut options);
    files::no_follow_no_block(&mut options);
    let mut file = Held::new(
        options
            .open(&temp)
            .map_err(|error| SpoolError::from_open(&error))?,
    );
    let placed = (|| {
        // Only a claim's sweep of stale temporaries may hold it, for an
        // instant: wait a little rather than fail.
        if !files::lock_exclusive(&file) {
            return Err(SpoolError::Io(ErrorKind::WouldBlock));
        }
        fill(&mut file)?;
        fs::rename(&temp, path).map_err(|error| SpoolError::from_write(&error))
    })();
    if let Err(error) = placed {
        let _ = fs::remove_file(&temp);
        return Err(error);
    }
    Ok(file)
}

/// Opens an existing file for reading and appending, never following a
/// link and never blocking (a FIFO).
pub(super) fn open_existing(path: &Path) -> Result<Held, SpoolError> {
    // O_NOFOLLOW refuses a link too (ELOOP); this check also covers
    // platforms without it.
    let meta = fs::symlink_metadata(path).map_err(|error| SpoolError::Io(error.kind()))?;
    if meta.file_type().is_symlink() {
        return Err(SpoolError::Symlink);
    }
    if meta.is_dir() {
        return Err(SpoolError::NotAFile);
    }
    let mut options = OpenOptions::new();
    options.read(true).append(true);
    files::no_follow_no_block(&mut options);
    options
        .open(path)
        .map(Held::new)
        .map_err(|error| match error.kind() {
            ErrorKind::NotFound => SpoolError::Io(ErrorKind::NotFound),
            _ => SpoolError::from_open(&error),
        })
}
