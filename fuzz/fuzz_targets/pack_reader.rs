//! Feeds arbitrary bytes to the pack reader: it must refuse or accept, never panic, hang or
//! allocate past its caps. The demo key is trusted so that seeds signed by it (see
//! README.md) get past the signature and exercise the entry stream and contents.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sqlexam_core::pack::{Anchor, PublicKey, Trust, VerifyOptions, verify};
use time::macros::datetime;

fuzz_target!(|data: &[u8]| {
    let key = PublicKey::from_pem(include_str!("../../keys/demo/demo-organizer.pub.pem")).expect("demo key");
    let trust = Trust { anchors: vec![Anchor::new(&key, "demo")], revoked: Vec::new() };
    let options = VerifyOptions { trust: &trust, now: datetime!(2026-06-01 0:00 UTC), ledger: None, start_code: None };
    if let Ok(pack) = verify(data, &options) {
        let _ = pack.open(Some("FUZZ-SEED-CODE"));
    }
});
