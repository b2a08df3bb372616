//! Receipts without a server: one signed from a real simulation of level 01's reference
//! solution verifies in process and with `stampede receipt verify`, and changing any single
//! byte of it makes verification fail.

use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;

use stampede_protocol::api::{RECEIPT_VERSION, Receipt, ReceiptAction, ReceiptPlayer};
use stampede_protocol::{Mode, PlayerId};
use stampede_server::Catalog;
use stampede_server::receipt::Signer;
use stampede_sim::World;
use stampede_sim::level::SolutionRole;

const LEVELS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../levels");
const SEED: [u8; 32] = [7; 32];

/// A receipt for level 01 played with its reference solution, signed with `SEED`.
fn signed_receipt(catalog: &Catalog) -> String {
    let level = catalog.get("01-scale-out").unwrap();
    let solution = level
        .solutions
        .iter()
        .find(|s| s.role == SolutionRole::Reference)
        .unwrap();
    let mut world = World::new(Arc::clone(&level), level.seed).unwrap();
    let result = world.run_script(&solution.actions, |_| {});
    assert!(result.passed);
    let player = PlayerId("p-offline".to_owned());
    let mut receipt = Receipt {
        version: RECEIPT_VERSION,
        id: "r-offline".to_owned(),
        attempt_id: "a-offline".to_owned(),
        level: level.id.clone(),
        level_version: level.version,
        level_hash: catalog.hash(&level.id).unwrap().to_owned(),
        engine: stampede_sim::ENGINE_VERSION.to_owned(),
        seed: level.seed,
        mode: Mode::Solo,
        players: vec![ReceiptPlayer {
            id: player.clone(),
            name: "Offline".to_owned(),
        }],
        actions: solution
            .actions
            .iter()
            .map(|a| ReceiptAction {
                tick: a.tick,
                player: player.clone(),
                action: a.action.clone(),
            })
            .collect(),
        result,
        started_at: 1_796_040_000_000,
        finished_at: 1_796_040_300_000,
        key_id: String::new(),
        signature: None,
    };
    Signer::from_seed(&SEED).sign(&mut receipt)
}

#[test]
fn a_signed_receipt_verifies_and_any_changed_byte_fails_it() {
    let catalog = Catalog::load(std::path::Path::new(LEVELS)).unwrap();
    let text = signed_receipt(&catalog);
    let verifier = Signer::from_seed(&SEED).verifier();
    let ok = verifier.verify(&text, &catalog);
    assert!(ok.valid, "{ok:?}");
    assert!(
        verifier.verify(&format!("{text}\n"), &catalog).valid,
        "a saved file's newline is fine"
    );

    let bytes = text.as_bytes();
    let mut failures = 0;
    for i in 0..bytes.len() {
        let mut changed = bytes.to_vec();
        changed[i] = if bytes[i] == b'0' { b'1' } else { b'0' };
        let Ok(changed) = String::from_utf8(changed) else {
            failures += 1;
            continue;
        };
        let v = verifier.verify(&changed, &catalog);
        assert!(
            !v.valid,
            "changing byte {i} ({:?}) went unnoticed",
            bytes[i] as char
        );
        assert!(v.reason.is_some());
        failures += 1;
    }
    assert_eq!(failures, bytes.len());

    // Signed by someone else's key: refused, naming the key.
    let other = Signer::from_seed(&[9; 32]).verifier();
    let v = other.verify(&text, &catalog);
    assert!(!v.valid && v.reason.unwrap().contains("key"));
}

#[test]
fn a_receipt_whose_actions_do_not_give_its_result_fails_re_simulation() {
    let catalog = Catalog::load(std::path::Path::new(LEVELS)).unwrap();
    let text = signed_receipt(&catalog);
    let mut r: Receipt = serde_json::from_str(&text).unwrap();
    // A correctly signed receipt whose action log was cut short: the signature holds, the
    // re-simulation does not reach the recorded result.
    r.actions.truncate(1);
    let body = Signer::from_seed(&SEED).sign(&mut r);
    let v = Signer::from_seed(&SEED).verifier().verify(&body, &catalog);
    assert!(!v.valid);
    assert!(v.reason.unwrap().contains("different result"));
    assert!(v.resimulated.is_some_and(|res| !res.passed));
}

#[test]
fn receipt_verify_command_checks_a_file_offline() {
    let catalog = Catalog::load(std::path::Path::new(LEVELS)).unwrap();
    let text = signed_receipt(&catalog);
    let dir = std::env::temp_dir().join(format!("stampede-receipt-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let good: PathBuf = dir.join("good.json");
    std::fs::write(&good, &text).unwrap();
    let bad = dir.join("bad.json");
    std::fs::write(
        &bad,
        text.replacen("\"passed\":true", "\"passed\":false", 1),
    )
    .unwrap();
    let key = Signer::from_seed(&SEED).verifier().public().key;
    let run = |file: &PathBuf| {
        Command::new(env!("CARGO_BIN_EXE_stampede"))
            .args(["receipt", "verify"])
            .arg(file)
            .args(["--public-key", &key])
            .env("STAMPEDE_LEVELS_DIR", LEVELS)
            .output()
            .unwrap()
    };
    let out = run(&good);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("\"valid\": true"), "{stdout}");
    let out = run(&bad);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("signature"));
    let out = run(&dir.join("missing.json"));
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing.json"));
}
