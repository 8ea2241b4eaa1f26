//! The newest checkpoint the server signed, kept as a file in its data folder — outside its
//! database — so a database restored from an older backup, or whose log was cut or
//! rewritten, is refused at start instead of served: a log only grows, and the server has
//! already shown devices the larger one. The file is written (to a temporary file, then
//! renamed over) whenever a larger checkpoint is signed; it may lag the database after a
//! crash, never lead it, so it never refuses a database that is whole.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use sqlexam_core::crypto::PublicKey;
use sqlexam_core::tlog::{Checkpoint, open_checkpoint};

use super::Server;
use crate::store::StoreError;

/// The file's name in the data folder.
pub const FILE: &str = "checkpoint.latest";

/// Why the database does not bear out the newest checkpoint the server signed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Behind {
    #[error(
        "the database's record log holds {held} records, but this server signed a checkpoint of {signed} records (kept in {}): the database was restored from an older backup or its log was cut, and devices hold proofs of records it lost. Refusing to serve it. Restore the newest backup; to serve this database anyway, move that file aside (keep it: it proves what was lost)",
        path.display()
    )]
    Shorter {
        held: u64,
        signed: u64,
        path: PathBuf,
    },
    #[error(
        "the database's record log differs from the checkpoint of {size} records this server signed (kept in {}): its history was rewritten. Refusing to serve it; to serve this database anyway, move that file aside (keep it: it proves what was signed)",
        path.display()
    )]
    Rewritten { size: u64, path: PathBuf },
}

/// The newest signed checkpoint, as a file.
pub struct Watermark {
    path: PathBuf,
    /// The size written last (writes only grow it).
    written: Mutex<u64>,
}

impl Watermark {
    /// The watermark of the data folder `data_dir`, and the checkpoint it holds (`None` when
    /// there is no file yet, or it cannot be read as the server's checkpoint — said on
    /// standard error: nothing can be checked against it).
    pub fn open(data_dir: &Path, key: &PublicKey) -> (Watermark, Option<Checkpoint>) {
        let path = data_dir.join(FILE);
        let held = match std::fs::read_to_string(&path) {
            Ok(note) => match open_checkpoint(&note, key) {
                Ok(c) => Some(c),
                Err(e) => {
                    eprintln!(
                        "{}: not this server's checkpoint, so the database's log is not checked against it: {e}",
                        path.display()
                    );
                    None
                }
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => {
                eprintln!(
                    "{}: cannot read it, so the database's log is not checked against it: {e}",
                    path.display()
                );
                None
            }
        };
        let written = held.as_ref().map_or(0, |c| c.size);
        (
            Watermark {
                path,
                written: Mutex::new(written),
            },
            held,
        )
    }

    /// Whether a log of `held` records, whose root at `signed`'s size is `root_then`
    /// (`None` when shorter), bears out `signed`.
    fn check(
        &self,
        signed: &Checkpoint,
        held: u64,
        root_then: Option<[u8; 32]>,
    ) -> Result<(), Behind> {
        if held < signed.size {
            return Err(Behind::Shorter {
                held,
                signed: signed.size,
                path: self.path.clone(),
            });
        }
        if root_then != Some(signed.root.0) {
            return Err(Behind::Rewritten {
                size: signed.size,
                path: self.path.clone(),
            });
        }
        Ok(())
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Keeps `note`, a checkpoint of `size` records just signed, if it is larger than the
    /// one kept. A failure to write is said on standard error and changes nothing else.
    pub fn note(&self, size: u64, note: &str) {
        let Ok(mut written) = self.written.lock() else {
            return;
        };
        if size <= *written {
            return;
        }
        let tmp = self
            .path
            .with_extension(format!("tmp{}", std::process::id()));
        let saved = std::fs::write(&tmp, note).and_then(|()| std::fs::rename(&tmp, &self.path));
        match saved {
            Ok(()) => *written = size,
            Err(e) => eprintln!(
                "{}: cannot keep the newest checkpoint: {e}",
                self.path.display()
            ),
        }
    }
}

impl Server {
    /// Whether the database's log bears out `signed`, the newest checkpoint this server
    /// signed (from its watermark): `Ok(Err(_))` when it does not.
    pub async fn bears_out(&self, signed: &Checkpoint) -> Result<Result<(), Behind>, StoreError> {
        let (held, _) = self.store.log_head().await?;
        let root_then = self.root_at(signed.size).await?.map(|h| h.0);
        Ok(self.watermark.check(signed, held, root_then))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlexam_core::crypto::SigningKey;
    use sqlexam_core::tlog::{Hash, sign_checkpoint};

    #[test]
    fn a_log_shorter_or_other_than_the_newest_signed_checkpoint_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let key = SigningKey::generate().unwrap();
        let (mark, held) = Watermark::open(dir.path(), &key.public());
        assert!(held.is_none(), "no file yet");
        mark.note(5, &sign_checkpoint(&key, 5, Hash([7; 32])));
        mark.note(3, &sign_checkpoint(&key, 3, Hash([1; 32])));
        let (mark, held) = Watermark::open(dir.path(), &key.public());
        let signed = held.unwrap();
        assert_eq!(signed.size, 5, "the larger one is kept");
        assert!(mark.check(&signed, 9, Some([7; 32])).is_ok());
        assert!(matches!(
            mark.check(&signed, 4, None),
            Err(Behind::Shorter {
                held: 4,
                signed: 5,
                ..
            })
        ));
        assert!(matches!(
            mark.check(&signed, 5, Some([8; 32])),
            Err(Behind::Rewritten { size: 5, .. })
        ));
        // Another server's checkpoint in the file checks nothing.
        let other = SigningKey::generate().unwrap();
        assert!(Watermark::open(dir.path(), &other.public()).1.is_none());
    }
}
