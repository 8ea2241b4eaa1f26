//! The container: a canonical ustar stream. Every header is exactly the one the builder
//! would write for that path and size (mode 0644, owner 0, mtime 0), content is padded with
//! zeros, and the archive ends with two zero blocks and nothing after. The reader rebuilds
//! each header and compares bytes, so any changed byte anywhere in a pack is noticed —
//! while `tar tf pack` still lists it with ordinary tools.

use std::io::Read;
use std::sync::mpsc;

use ring::digest::{Context, SHA256};

use super::{PackError, valid_entry_path};

const BLOCK: usize = 512;
/// Large entries are read in pieces of this size straight into their final buffer, and
/// each piece is hashed on a second thread while the next one is read. Larger than a
/// 1 MiB `BufReader`, so such a reader passes the pieces through without a copy.
const PIECE: usize = 4 << 20;
/// Pieces read but not yet hashed, at most.
const QUEUE: usize = 2;

fn canonical_header(path: &str, size: u64) -> Result<[u8; BLOCK], PackError> {
    let mut h = tar::Header::new_ustar();
    h.set_path(path).map_err(|e| PackError::Entry {
        path: path.into(),
        what: e.to_string(),
    })?;
    h.set_size(size);
    h.set_mode(0o644);
    h.set_uid(0);
    h.set_gid(0);
    h.set_mtime(0);
    h.set_entry_type(tar::EntryType::Regular);
    h.set_cksum();
    Ok(*h.as_bytes())
}

fn padding(size: u64) -> usize {
    (BLOCK - (size % BLOCK as u64) as usize) % BLOCK
}

/// Writes a canonical archive into memory.
#[derive(Default)]
pub(crate) struct Writer {
    out: Vec<u8>,
}

impl Writer {
    pub fn add(&mut self, path: &str, data: &[u8]) -> Result<(), PackError> {
        if !valid_entry_path(path) {
            return Err(PackError::Entry {
                path: path.into(),
                what: "not a valid entry path".into(),
            });
        }
        self.out
            .extend_from_slice(&canonical_header(path, data.len() as u64)?);
        self.out.extend_from_slice(data);
        self.out
            .resize(self.out.len() + padding(data.len() as u64), 0);
        Ok(())
    }

    pub fn finish(mut self) -> Vec<u8> {
        self.out.resize(self.out.len() + 2 * BLOCK, 0);
        self.out
    }
}

/// One entry as read: its path, bytes and their SHA-256.
pub(crate) struct Entry {
    pub path: String,
    pub data: Vec<u8>,
    pub sha256: [u8; 32],
}

/// Reads a canonical archive entry by entry, hashing as it goes.
pub(crate) struct Reader<R> {
    inner: R,
    offset: u64,
}

impl<R: Read> Reader<R> {
    pub fn new(inner: R) -> Self {
        Reader { inner, offset: 0 }
    }

    fn read_exact(&mut self, buf: &mut [u8]) -> Result<(), PackError> {
        let mut filled = 0;
        while filled < buf.len() {
            match self.inner.read(&mut buf[filled..]) {
                Ok(0) => {
                    return Err(PackError::Truncated {
                        offset: self.offset + filled as u64,
                    });
                }
                Ok(n) => filled += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(PackError::Io(e.to_string())),
            }
        }
        self.offset += buf.len() as u64;
        Ok(())
    }

    /// The next entry, or `None` at the end marker. An entry whose path is not `expected`
    /// (when given) is refused as out of place; `cap` bounds its size before anything of it
    /// is read.
    pub fn next(&mut self, expected: Option<&str>, cap: u64) -> Result<Option<Entry>, PackError> {
        let start = self.offset;
        let mut header = [0u8; BLOCK];
        self.read_exact(&mut header)?;
        if header.iter().all(|&b| b == 0) {
            self.end(start)?;
            return Ok(None);
        }
        let parsed = tar::Header::from_byte_slice(&header);
        let path = String::from_utf8(parsed.path_bytes().into_owned())
            .ok()
            .filter(|p| valid_entry_path(p))
            .ok_or_else(|| PackError::Damaged {
                offset: start,
                what: "an entry has an invalid name".into(),
            })?;
        let size = parsed.size().map_err(|_| PackError::Damaged {
            offset: start,
            what: format!("entry {path} has an unreadable size"),
        })?;
        if let Some(expected) = expected.filter(|e| *e != path) {
            return Err(PackError::Entry {
                path,
                what: format!("is out of place: {expected} belongs here"),
            });
        }
        if size > cap {
            return Err(PackError::Entry {
                path,
                what: format!("{size} bytes is more than the {cap} allowed"),
            });
        }
        if canonical_header(&path, size)? != header {
            return Err(PackError::Damaged {
                offset: start,
                what: format!("the header of entry {path} was altered"),
            });
        }
        let mut data = vec![0u8; size as usize];
        crate::platform::prefer_huge_pages(&mut data);
        let sha256 = self.read_hashed(&mut data)?;
        let pad_at = self.offset;
        let mut pad = vec![0u8; padding(size)];
        self.read_exact(&mut pad)?;
        if pad.iter().any(|&b| b != 0) {
            return Err(PackError::Damaged {
                offset: pad_at,
                what: format!("the padding after entry {path} was altered"),
            });
        }
        Ok(Some(Entry { path, data, sha256 }))
    }

    /// Fills `data` from the input and returns its SHA-256. SHA-256 is sequential, so two
    /// cores help only by overlapping: a second thread hashes each piece while this one
    /// reads (copies) the next, and the slower of the two sets the pace.
    fn read_hashed(&mut self, data: &mut [u8]) -> Result<[u8; 32], PackError> {
        let mut sha256 = [0u8; 32];
        if data.len() <= PIECE {
            self.read_exact(data)?;
            sha256.copy_from_slice(ring::digest::digest(&SHA256, data).as_ref());
            return Ok(sha256);
        }
        std::thread::scope(|scope| {
            let (pieces, to_hash) = mpsc::sync_channel::<&[u8]>(QUEUE);
            let hasher = scope.spawn(move || {
                let mut hash = Context::new(&SHA256);
                for piece in to_hash {
                    hash.update(piece);
                }
                hash.finish()
            });
            for piece in data.chunks_mut(PIECE) {
                // On an error `pieces` is dropped on return, which ends the hasher.
                self.read_exact(piece)?;
                // The hasher only stops early by panicking, which `join` reports below.
                let _ = pieces.send(piece);
            }
            drop(pieces);
            let digest = hasher
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            sha256.copy_from_slice(digest.as_ref());
            Ok(sha256)
        })
    }

    /// The end marker: a second zero block, then the end of the file.
    fn end(&mut self, start: u64) -> Result<(), PackError> {
        let mut block = [0u8; BLOCK];
        self.read_exact(&mut block)?;
        if block.iter().any(|&b| b != 0) {
            return Err(PackError::Damaged {
                offset: start,
                what: "a zero block in the middle of the archive".into(),
            });
        }
        let mut extra = [0u8; 1];
        match self.inner.read(&mut extra) {
            Ok(0) => Ok(()),
            Ok(_) => Err(PackError::Damaged {
                offset: self.offset,
                what: "data after the end of the archive".into(),
            }),
            Err(e) => Err(PackError::Io(e.to_string())),
        }
    }
}
