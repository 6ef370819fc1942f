//! Opens Inspect `.eval` logs, zip archives, without trusting them.
//!
//! A zip states each entry's uncompressed size, but a hostile (or broken)
//! archive can lie, and a few kilobytes of deflate can expand to gigabytes.
//! So every read is capped: the number of entries, each entry's bytes and
//! the bytes read from the whole archive. Declared sizes only let a plainly
//! oversized entry be refused early; the cap on what is actually read
//! (`Read::take`) is what holds. Only entries that are asked for are
//! decompressed; the journal Inspect keeps while a log is written is never
//! read.

use std::io::{Cursor, Read};

use zip::ZipArchive;
use zip::result::ZipError;

use crate::ingest::file_error::{ErrorCode, FileError, JsonPath};

/// How much of an archive is read before it is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Entries in the central directory, read or not.
    pub entries: usize,
    /// Uncompressed bytes of any one entry.
    pub entry_bytes: u64,
    /// Uncompressed bytes of all the entries read together.
    pub total_bytes: u64,
}

/// The limits ingest applies.
///
/// An Inspect log holds one entry per sample and epoch plus a few journal
/// entries, so a 14,000-item benchmark run for five epochs stays under the
/// entry limit. Samples that keep long agent transcripts reach tens of
/// megabytes, well under the per-entry limit.
pub const LIMITS: Limits = Limits {
    entries: 100_000,
    entry_bytes: 256 << 20,
    total_bytes: 1 << 30,
};

/// An opened archive and how much of it has been read so far.
pub struct Archive<'a> {
    zip: ZipArchive<Cursor<&'a [u8]>>,
    limits: Limits,
    read: u64,
}

impl<'a> Archive<'a> {
    /// Opens the zip in `bytes`; fails when it is not a zip or holds more
    /// entries than `limits` allow.
    pub fn open(bytes: &'a [u8], limits: Limits) -> Result<Self, FileError> {
        let zip = ZipArchive::new(Cursor::new(bytes)).map_err(|error| {
            invalid(
                JsonPath::root().to_string(),
                format!("The file is not a readable zip archive: {error}."),
            )
        })?;
        let archive = Self {
            zip,
            limits,
            read: 0,
        };
        if archive.zip.len() > limits.entries {
            let entry = archive.name(limits.entries)?;
            return Err(too_large(
                entry,
                format!(
                    "The archive holds {} entries; at most {} are read.",
                    archive.zip.len(),
                    limits.entries
                ),
            ));
        }
        tracing::debug!(entries = archive.zip.len(), "opened an Inspect archive");

        Ok(archive)
    }

    /// Returns the names of all entries, in the archive's order.
    pub fn names(&self) -> Result<Vec<String>, FileError> {
        (0..self.zip.len()).map(|index| self.name(index)).collect()
    }

    fn name(&self, index: usize) -> Result<String, FileError> {
        match self.zip.name_for_index(index) {
            Some(Ok(name)) => Ok(name.into_owned()),
            Some(Err(error)) => Err(invalid(
                format!("entry {index}"),
                format!("The name of entry {index} cannot be read: {error}."),
            )),
            None => Err(invalid(
                format!("entry {index}"),
                format!("Entry {index} is listed but missing."),
            )),
        }
    }

    /// Returns the uncompressed bytes of the entry `name`, or `None` when
    /// the archive has no such entry; fails when the entry is corrupt or
    /// would take the archive past its limits.
    pub fn read(&mut self, name: &str) -> Result<Option<Vec<u8>>, FileError> {
        let Some(index) = self.zip.index_for_name(name) else {
            return Ok(None);
        };
        let limits = self.limits;
        let remaining = limits.total_bytes.saturating_sub(self.read);
        let cap = limits.entry_bytes.min(remaining);
        let mut entry = self
            .zip
            .by_index(index)
            .map_err(|error| entry_error(name, &error))?;
        let declared = entry.size();
        if declared > cap {
            let found = format!("declares {declared} bytes uncompressed");
            return Err(over_limit(limits, name, &found, cap));
        }
        let bytes = match read_capped(&mut entry, cap, name) {
            Ok(Ok(bytes)) => bytes,
            Ok(Err(error)) => {
                let message = format!("Entry `{name}` cannot be decompressed: {error}.");
                return Err(invalid(name.to_string(), message));
            }
            Err(OverCap) => {
                let found = format!("decompresses to more than {cap} bytes");
                return Err(over_limit(limits, name, &found, cap));
            }
        };
        self.read += bytes.len() as u64;

        Ok(Some(bytes))
    }
}

/// Says which limit an entry that `found` (too many bytes) broke.
fn over_limit(limits: Limits, name: &str, found: &str, cap: u64) -> FileError {
    let limit = if cap == limits.entry_bytes {
        format!("no entry may exceed {} bytes", limits.entry_bytes)
    } else {
        format!(
            "only {cap} of the archive's {} bytes remained",
            limits.total_bytes
        )
    };
    too_large(
        name.to_string(),
        format!("Entry `{name}` {found}; {limit}."),
    )
}

/// The read went past its cap; how far is unknown and irrelevant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OverCap;

/// Reads at most `cap` bytes; `Err(OverCap)` when there are more, the inner
/// result for a failing reader. The buffer grows with what actually
/// arrives, never with what the entry declared.
pub fn read_capped(
    reader: &mut impl Read,
    cap: u64,
    name: &str,
) -> Result<std::io::Result<Vec<u8>>, OverCap> {
    let mut bytes = Vec::new();
    if let Err(error) = reader.take(cap.saturating_add(1)).read_to_end(&mut bytes) {
        tracing::debug!(entry = name, error = %error, "archive entry unreadable");
        return Ok(Err(error));
    }
    if bytes.len() as u64 > cap {
        return Err(OverCap);
    }

    Ok(Ok(bytes))
}

fn entry_error(name: &str, error: &ZipError) -> FileError {
    invalid(
        name.to_string(),
        format!("Entry `{name}` cannot be read: {error}."),
    )
}

fn invalid(path: String, message: String) -> FileError {
    FileError {
        code: ErrorCode::InvalidArchive,
        path,
        message,
    }
}

fn too_large(path: String, message: String) -> FileError {
    FileError {
        code: ErrorCode::ArchiveTooLarge,
        path,
        message,
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use zip::ZipWriter;
    use zip::write::SimpleFileOptions;

    use super::*;

    fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut writer = ZipWriter::new(Cursor::new(Vec::new()));
        for (name, content) in entries {
            let started = writer.start_file(*name, SimpleFileOptions::default());
            assert!(started.is_ok(), "start {name}");
            assert!(writer.write_all(content).is_ok(), "write {name}");
        }
        match writer.finish() {
            Ok(cursor) => cursor.into_inner(),
            Err(error) => panic!("finishing the test zip: {error}"),
        }
    }

    const SMALL: Limits = Limits {
        entries: 3,
        entry_bytes: 100,
        total_bytes: 150,
    };

    #[test]
    fn entries_are_read_by_name_and_absent_ones_are_none() -> Result<(), FileError> {
        let bytes = zip_of(&[("header.json", b"{}"), ("samples/1_epoch_1.json", b"[]")]);
        let mut archive = Archive::open(&bytes, SMALL)?;
        assert_eq!(archive.names()?, ["header.json", "samples/1_epoch_1.json"]);
        assert_eq!(archive.read("header.json")?, Some(b"{}".to_vec()));
        assert_eq!(archive.read("summaries.json")?, None);
        Ok(())
    }

    #[test]
    fn too_many_entries_are_refused_naming_the_first_past_the_limit() {
        let bytes = zip_of(&[("a", b""), ("b", b""), ("c", b""), ("d", b"")]);
        let error = Archive::open(&bytes, SMALL).err();
        assert_eq!(
            error.map(|e| (e.code, e.path)),
            Some((ErrorCode::ArchiveTooLarge, "d".to_string()))
        );
    }

    #[test]
    fn an_entry_over_its_limit_is_refused_before_it_is_read() -> Result<(), FileError> {
        let big = vec![b'x'; 101];
        let bytes = zip_of(&[("big.json", &big)]);
        let mut archive = Archive::open(&bytes, SMALL)?;
        let error = archive.read("big.json").err();
        assert_eq!(
            error.map(|e| (e.code, e.path)),
            Some((ErrorCode::ArchiveTooLarge, "big.json".to_string()))
        );
        Ok(())
    }

    #[test]
    fn the_whole_archive_is_capped_across_entries() -> Result<(), FileError> {
        let part = vec![b'x'; 80];
        let bytes = zip_of(&[("one", &part), ("two", &part)]);
        let mut archive = Archive::open(&bytes, SMALL)?;
        assert_eq!(archive.read("one")?.map(|b| b.len()), Some(80));
        let error = archive.read("two").err();
        assert_eq!(
            error.map(|e| (e.code, e.path)),
            Some((ErrorCode::ArchiveTooLarge, "two".to_string()))
        );
        Ok(())
    }

    #[test]
    fn a_reader_that_runs_past_its_cap_is_cut_off() {
        // What a lying header leads to: more bytes than declared arrive.
        let mut endless = std::io::repeat(0);
        assert_eq!(read_capped(&mut endless, 1000, "bomb").err(), Some(OverCap));
        let read = read_capped(&mut &b"12345"[..], 5, "exact");
        assert!(matches!(read, Ok(Ok(bytes)) if bytes == b"12345"));
    }

    #[test]
    fn bytes_that_are_not_a_zip_are_an_invalid_archive() {
        let error = Archive::open(b"{\"version\": 2}", LIMITS).err();
        assert_eq!(
            error.map(|e| (e.code, e.path)),
            Some((ErrorCode::InvalidArchive, "$".to_string()))
        );
    }

    #[test]
    fn a_corrupt_entry_is_named() -> Result<(), Box<dyn std::error::Error>> {
        let content = vec![b'a'; 4096];
        let mut bytes = zip_of(&[("header.json", &content)]);
        let (start, length) = {
            let mut zip = ZipArchive::new(Cursor::new(&bytes[..]))?;
            let entry = zip.by_index(0)?;
            (
                entry.data_start().unwrap_or_default(),
                entry.compressed_size(),
            )
        };
        let middle = usize::try_from(start + length / 2)?;
        // Flipping bits inside the deflate data breaks the inflater or the CRC.
        bytes[middle] ^= 0xff;
        let mut archive = Archive::open(&bytes, LIMITS)?;
        let error = archive.read("header.json").err();
        assert_eq!(
            error.map(|e| (e.code, e.path)),
            Some((ErrorCode::InvalidArchive, "header.json".to_string()))
        );
        Ok(())
    }
}
