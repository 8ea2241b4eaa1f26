//! Which keys may sign packs: trust anchors (pinned in the app, or the CLI's trust store),
//! signing keys endorsed by an anchor until a date (key rotation), and revoked key ids.
//! An endorsement is verified over its exact bytes before its contents are read.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::{CLOCK_SKEW, PackError};
use crate::crypto::{PublicKey, SigningKey};
use crate::encoding::{format_time, hex, parse_time, unhex};

/// Domain prefix of endorsement signatures.
pub const ENDORSEMENT_DOMAIN: &[u8] = b"sqlexam key endorsement v1\n";

/// A key trusted to sign packs, or to endorse keys that sign packs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Anchor {
    pub key_id: String,
    /// Raw Ed25519 public key, hex.
    pub public_key: String,
    pub name: String,
}

/// The trust configuration a verifier uses.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Trust {
    pub anchors: Vec<Anchor>,
    /// Key ids that are refused whatever else says, with the name they were known by.
    #[serde(default)]
    pub revoked: Vec<Anchor>,
}

/// A signed statement by an anchor: "this key may sign packs until `not_after`".
/// `body` is the exact JSON that was signed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Endorsement {
    pub body: String,
    pub signature: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct EndorsementBody {
    format: String,
    issuer: String,
    subject: String,
    subject_public_key: String,
    name: String,
    not_after: String,
}

const ENDORSEMENT_FORMAT: &str = "sqlexam-endorsement/1";

/// How a pack's signer came to be trusted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TrustPath {
    /// The signer is an anchor.
    Anchor { key_id: String, name: String },
    /// The signer was endorsed by an anchor until `until`.
    Endorsed {
        key_id: String,
        name: String,
        by: String,
        by_name: String,
        until: String,
    },
}

impl Anchor {
    pub fn new(key: &PublicKey, name: &str) -> Anchor {
        Anchor {
            key_id: key.key_id(),
            public_key: key.to_hex(),
            name: name.to_owned(),
        }
    }

    fn key(&self) -> Option<PublicKey> {
        PublicKey::from_hex(&self.public_key).filter(|k| k.key_id() == self.key_id)
    }
}

impl Endorsement {
    /// `issuer` endorses `subject` (named `name`) to sign packs until `not_after`.
    pub fn create(
        issuer: &SigningKey,
        subject: &PublicKey,
        name: &str,
        not_after: OffsetDateTime,
    ) -> Endorsement {
        let body = EndorsementBody {
            format: ENDORSEMENT_FORMAT.into(),
            issuer: issuer.public().key_id(),
            subject: subject.key_id(),
            subject_public_key: subject.to_hex(),
            name: name.into(),
            not_after: format_time(not_after),
        };
        let body = serde_json::to_string(&body).unwrap_or_default();
        let signature = hex(&issuer.sign(ENDORSEMENT_DOMAIN, body.as_bytes()));
        Endorsement { body, signature }
    }
}

impl Trust {
    fn revoked(&self, key_id: &str) -> Option<&Anchor> {
        self.revoked.iter().find(|r| r.key_id == key_id)
    }

    fn anchor(&self, key_id: &str) -> Option<&Anchor> {
        self.anchors.iter().find(|a| a.key_id == key_id)
    }

    /// Decides whether `signer` may sign packs at `now`, given the endorsements a pack
    /// carries. Revocation wins over everything.
    pub fn resolve(
        &self,
        signer: &PublicKey,
        endorsements: &[Endorsement],
        now: OffsetDateTime,
    ) -> Result<TrustPath, PackError> {
        let key_id = signer.key_id();
        if let Some(r) = self.revoked(&key_id) {
            return Err(PackError::RevokedKey {
                key_id,
                name: r.name.clone(),
            });
        }
        if let Some(anchor) = self.anchor(&key_id).filter(|a| a.key() == Some(*signer)) {
            return Ok(TrustPath::Anchor {
                key_id,
                name: anchor.name.clone(),
            });
        }
        let mut expired = None;
        for e in endorsements {
            let Some(body) = self.check_endorsement(e, signer)? else {
                continue;
            };
            let until = parse_time(&body.not_after).ok_or_else(|| {
                PackError::Manifest(format!(
                    "an endorsement's not_after {:?} is not an RFC 3339 time",
                    body.not_after
                ))
            })?;
            if now > until + CLOCK_SKEW {
                expired = Some((body.issuer.clone(), body.not_after.clone()));
                continue;
            }
            let by_name = self
                .anchor(&body.issuer)
                .map(|a| a.name.clone())
                .unwrap_or_default();
            return Ok(TrustPath::Endorsed {
                key_id,
                name: body.name,
                by: body.issuer,
                by_name,
                until: body.not_after,
            });
        }
        match expired {
            Some((by, until)) => Err(PackError::ExpiredEndorsement { key_id, by, until }),
            None => Err(PackError::UntrustedKey { key_id }),
        }
    }

    /// The endorsement's body if it is a valid endorsement of `signer` by a live anchor;
    /// `None` if it is about another key or by a key we do not know.
    fn check_endorsement(
        &self,
        e: &Endorsement,
        signer: &PublicKey,
    ) -> Result<Option<EndorsementBody>, PackError> {
        let Some(sig) = unhex(&e.signature) else {
            return Ok(None);
        };
        // Verify before parsing: try every anchor, since the issuer is named inside the body.
        let signed_by = |a: &&Anchor| {
            a.key()
                .is_some_and(|k| k.verify(ENDORSEMENT_DOMAIN, e.body.as_bytes(), &sig))
        };
        let Some(issuer) = self.anchors.iter().find(signed_by) else {
            // Endorsed by a key that was revoked (and so is no anchor any more): say which.
            if let Some(r) = self.revoked.iter().find(signed_by) {
                return Err(PackError::RevokedKey {
                    key_id: r.key_id.clone(),
                    name: r.name.clone(),
                });
            }
            return Ok(None);
        };
        let body: EndorsementBody = serde_json::from_str(&e.body).map_err(|err| {
            PackError::Manifest(format!("a signed endorsement does not parse: {err}"))
        })?;
        let subject_matches = PublicKey::from_hex(&body.subject_public_key)
            .is_some_and(|k| k.key_id() == body.subject);
        if body.format != ENDORSEMENT_FORMAT || body.issuer != issuer.key_id || !subject_matches {
            return Err(PackError::Manifest(
                "a signed endorsement has an unknown format or issuer".into(),
            ));
        }
        if let Some(r) = self.revoked(&issuer.key_id) {
            return Err(PackError::RevokedKey {
                key_id: issuer.key_id.clone(),
                name: r.name.clone(),
            });
        }
        Ok((body.subject_public_key == signer.to_hex()).then_some(body))
    }
}
