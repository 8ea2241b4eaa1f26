//! `sqlexam key …` and `sqlexam trust …`: organizer keys, endorsements for key rotation,
//! and the CLI's own trust store.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use sqlexam_core::crypto::{PublicKey, SigningKey};
use sqlexam_core::encoding::parse_time;
use sqlexam_core::pack::{Anchor, Endorsement};

use crate::home::{Home, write_atomic};

/// The public key file written beside `key`: `organizer.key` → `organizer.pub.pem`.
pub fn public_path(key: &Path) -> PathBuf {
    match key.extension() {
        Some(ext) if ext == "key" => key.with_extension("pub.pem"),
        _ => PathBuf::from(format!("{}.pub.pem", key.display())),
    }
}

pub fn read_signing_key(path: &Path) -> anyhow::Result<SigningKey> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("{}: cannot read the key", path.display()))?;
    SigningKey::from_pem(&text)
        .with_context(|| format!("{}: not a sqlexam signing key", path.display()))
}

pub fn read_public_key(path: &Path) -> anyhow::Result<PublicKey> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("{}: cannot read the key", path.display()))?;
    PublicKey::from_pem(&text)
        .with_context(|| format!("{}: not an Ed25519 public key", path.display()))
}

pub fn generate(out: &Path, force: bool) -> anyhow::Result<()> {
    let public = public_path(out);
    for path in [out, public.as_path()] {
        if path.exists() && !force {
            bail!(
                "{}: already exists (use --force to replace it)",
                path.display()
            );
        }
    }
    let key = SigningKey::generate()?;
    write_atomic(out, key.to_pem().as_bytes(), true)?;
    write_atomic(&public, key.public().to_pem().as_bytes(), false)?;
    say!("key id {}", key.public().key_id());
    say!("private key {} (mode 0600: keep it secret)", out.display());
    say!("public key  {}", public.display());
    Ok(())
}

pub fn endorse(
    issuer: &Path,
    subject: &Path,
    until: &str,
    name: &str,
    out: &Path,
) -> anyhow::Result<()> {
    let issuer = read_signing_key(issuer)?;
    let subject = read_public_key(subject)?;
    let until = parse_time(until).with_context(|| {
        format!("--until {until:?} is not an RFC 3339 time like 2027-03-31T00:00:00Z")
    })?;
    let e = Endorsement::create(&issuer, &subject, name, until);
    write_atomic(out, serde_json::to_string_pretty(&e)?.as_bytes(), false)?;
    say!(
        "key {} endorsed by {} until {}: {}",
        subject.key_id(),
        issuer.public().key_id(),
        sqlexam_core::encoding::format_time(until),
        out.display()
    );
    Ok(())
}

pub fn trust_add(home: &Home, key: &Path, name: Option<&str>) -> anyhow::Result<()> {
    let key = read_public_key(key)?;
    let mut trust = home.trust()?;
    if trust.revoked.iter().any(|r| r.key_id == key.key_id()) {
        bail!(
            "key {} is revoked in {}; it cannot be trusted again",
            key.key_id(),
            home.trust_path().display()
        );
    }
    let name = name.unwrap_or("organizer");
    trust.anchors.retain(|a| a.key_id != key.key_id());
    trust.anchors.push(Anchor::new(&key, name));
    home.save_trust(&trust)?;
    say!("trusted {} ({name})", key.key_id());
    Ok(())
}

pub fn trust_list(home: &Home, json: bool) -> anyhow::Result<()> {
    let trust = home.trust()?;
    if json {
        println!("{}", serde_json::to_string_pretty(&trust)?);
        return Ok(());
    }
    say!("trust store {}", home.trust_path().display());
    if trust.anchors.is_empty() {
        say!("  no trusted keys (add one with: sqlexam trust add organizer.pub.pem)");
    }
    for a in &trust.anchors {
        say!("  trusted  {}  {}", a.key_id, a.name);
    }
    for r in &trust.revoked {
        say!("  revoked  {}  {}", r.key_id, r.name);
    }
    Ok(())
}

pub fn trust_remove(home: &Home, key_id: &str) -> anyhow::Result<()> {
    let mut trust = home.trust()?;
    let before = trust.anchors.len();
    trust.anchors.retain(|a| a.key_id != key_id);
    if trust.anchors.len() == before {
        bail!("key {key_id} is not in the trust store (see sqlexam trust list)");
    }
    home.save_trust(&trust)?;
    say!("no longer trusted: {key_id}");
    Ok(())
}

pub fn trust_revoke(home: &Home, key: &Path, name: Option<&str>) -> anyhow::Result<()> {
    let key = read_public_key(key)?;
    let mut trust = home.trust()?;
    let known = trust
        .anchors
        .iter()
        .find(|a| a.key_id == key.key_id())
        .map(|a| a.name.clone());
    let name = name
        .map(str::to_owned)
        .or(known)
        .unwrap_or_else(|| "revoked key".into());
    trust.anchors.retain(|a| a.key_id != key.key_id());
    if !trust.revoked.iter().any(|r| r.key_id == key.key_id()) {
        trust.revoked.push(Anchor::new(&key, &name));
    }
    home.save_trust(&trust)?;
    say!(
        "revoked {} ({name}): packs it signed or endorsed are refused",
        key.key_id()
    );
    Ok(())
}
