//! Receipts: the canonical encoding of a finished attempt, signed with Ed25519, and their
//! verification (signature, then re-simulation of the action log to the same result).
//! Invariant: a receipt is valid only byte for byte as signed: its canonical encoding is
//! `serde_json` of `Receipt` in field order, and verification refuses any other spelling, so
//! changing any byte of a receipt fails it.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use ed25519_dalek::{Signature, Signer as _, SigningKey, Verifier as _, VerifyingKey};
use sha2::{Digest, Sha256};
use stampede_protocol::api::{PublicKey, RECEIPT_VERSION, Receipt, Verification};
use stampede_sim::{TimedAction, World};
use tracing::info;

use crate::Catalog;

/// Where the signing key comes from.
#[derive(Debug, Clone, Default)]
pub struct KeySource {
    /// A base64 32-byte seed given directly (`STAMPEDE_RECEIPT_KEY`).
    pub inline: Option<String>,
    /// A file holding the base64 seed, created with a new key when missing
    /// (`STAMPEDE_RECEIPT_KEY_FILE`; by default `receipt-key` beside the SQLite database).
    pub file: Option<PathBuf>,
}

/// Why the signing key could not be had.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// Not base64 of 32 bytes.
    #[error("the receipt key must be base64 of 32 bytes: {0}")]
    Malformed(String),
    /// The key file could not be read or written.
    #[error("receipt key file {path}: {source}")]
    Io {
        /// Which file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Nowhere to keep a generated key.
    #[error(
        "no receipt key: set STAMPEDE_RECEIPT_KEY (base64 of 32 random bytes) or \
         STAMPEDE_RECEIPT_KEY_FILE (created when missing)"
    )]
    Missing,
}

fn key_id(public: &VerifyingKey) -> String {
    let digest = Sha256::digest(public.as_bytes());
    digest[..8].iter().map(|b| format!("{b:02x}")).collect()
}

fn decode_seed(text: &str) -> Result<[u8; 32], KeyError> {
    let bytes = B64
        .decode(text.trim())
        .map_err(|e| KeyError::Malformed(e.to_string()))?;
    bytes
        .try_into()
        .map_err(|b: Vec<u8>| KeyError::Malformed(format!("{} bytes, not 32", b.len())))
}

/// The server's signing key.
pub struct Signer {
    key: SigningKey,
    key_id: String,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the secret.
        f.debug_struct("Signer")
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

impl Signer {
    /// A signer from a 32-byte seed.
    pub fn from_seed(seed: &[u8; 32]) -> Self {
        let key = SigningKey::from_bytes(seed);
        let key_id = key_id(&key.verifying_key());
        Self { key, key_id }
    }

    /// Loads the key, generating and saving one on first run when a file is named.
    ///
    /// # Errors
    /// A malformed key, an unreadable or unwritable file, or no source at all.
    pub fn load(source: &KeySource) -> Result<Self, KeyError> {
        if let Some(inline) = &source.inline {
            return Ok(Self::from_seed(&decode_seed(inline)?));
        }
        let path = source.file.as_ref().ok_or(KeyError::Missing)?;
        let io = |source| KeyError::Io {
            path: path.clone(),
            source,
        };
        match std::fs::read_to_string(path) {
            Ok(text) => Ok(Self::from_seed(&decode_seed(&text)?)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut seed = [0u8; 32];
                getrandom::fill(&mut seed).map_err(|e| io(std::io::Error::other(e.to_string())))?;
                write_secret(path, &B64.encode(seed)).map_err(io)?;
                let signer = Self::from_seed(&seed);
                info!(path = %path.display(), key_id = %signer.key_id, "generated a receipt signing key");
                Ok(signer)
            }
            Err(e) => Err(io(e)),
        }
    }

    /// The public half.
    pub fn verifier(&self) -> Verifier {
        Verifier {
            key: self.key.verifying_key(),
            key_id: self.key_id.clone(),
        }
    }

    /// Fills in `key_id` and `signature`; returns the canonical signed encoding.
    pub fn sign(&self, receipt: &mut Receipt) -> String {
        receipt.key_id.clone_from(&self.key_id);
        receipt.signature = None;
        let body = canonical(receipt);
        let signature = self.key.sign(body.as_bytes());
        receipt.signature = Some(B64.encode(signature.to_bytes()));
        canonical(receipt)
    }
}

/// Writes a secret file readable by its owner only.
fn write_secret(path: &Path, text: &str) -> std::io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut f = options.open(path)?;
    std::io::Write::write_all(&mut f, format!("{text}\n").as_bytes())
}

/// A public key receipts are checked against.
#[derive(Debug, Clone)]
pub struct Verifier {
    key: VerifyingKey,
    key_id: String,
}

impl Verifier {
    /// A verifier from a published public key (base64 of 32 bytes).
    ///
    /// # Errors
    /// When it is not one.
    pub fn from_public(text: &str) -> Result<Self, KeyError> {
        let bytes = decode_seed(text)?;
        let key =
            VerifyingKey::from_bytes(&bytes).map_err(|e| KeyError::Malformed(e.to_string()))?;
        let key_id = key_id(&key);
        Ok(Self { key, key_id })
    }

    /// As published over HTTP.
    pub fn public(&self) -> PublicKey {
        PublicKey {
            algorithm: "ed25519".to_owned(),
            key: B64.encode(self.key.as_bytes()),
            key_id: self.key_id.clone(),
        }
    }

    /// Checks a receipt: the exact bytes, the signature, the level and engine, and finally
    /// a re-simulation of its actions to the same result.
    pub fn verify(&self, text: &str, catalog: &Catalog) -> Verification {
        match self.check(text, catalog) {
            Ok(result) => Verification {
                valid: true,
                reason: None,
                resimulated: Some(result),
            },
            Err(rejected) => {
                let (reason, resimulated) = *rejected;
                Verification {
                    valid: false,
                    reason: Some(reason),
                    resimulated,
                }
            }
        }
    }

    fn check(&self, text: &str, catalog: &Catalog) -> Checked {
        let fail = |m: String| Box::new((m, None));
        // A saved file may end with one newline; nothing else may differ.
        let text = text.strip_suffix('\n').unwrap_or(text);
        let receipt: Receipt =
            serde_json::from_str(text).map_err(|e| fail(format!("not a receipt: {e}")))?;
        if receipt.version != RECEIPT_VERSION {
            return Err(fail(format!(
                "receipt version {} is not one this server reads ({RECEIPT_VERSION})",
                receipt.version
            )));
        }
        if canonical(&receipt) != text {
            return Err(fail(
                "the receipt is not byte for byte as signed (reformatted or changed)".to_owned(),
            ));
        }
        if receipt.key_id != self.key_id {
            return Err(fail(format!(
                "signed by key {}, not by this server's key {}",
                receipt.key_id, self.key_id
            )));
        }
        let signature = receipt
            .signature
            .as_deref()
            .ok_or_else(|| fail("the receipt has no signature".to_owned()))?;
        let signature = B64
            .decode(signature)
            .ok()
            .and_then(|b| Signature::from_slice(&b).ok())
            .ok_or_else(|| fail("the signature is not an Ed25519 signature".to_owned()))?;
        let unsigned = Receipt {
            signature: None,
            ..receipt.clone()
        };
        self.key
            .verify(canonical(&unsigned).as_bytes(), &signature)
            .map_err(|_| fail("the signature does not match the receipt's contents".to_owned()))?;
        resimulate(&receipt, catalog)
    }
}

/// Re-simulates a receipt's actions and compares the result with the recorded one.
fn resimulate(receipt: &Receipt, catalog: &Catalog) -> Checked {
    let fail = |m: String| Box::new((m, None));
    if receipt.engine != stampede_sim::ENGINE_VERSION {
        return Err(fail(format!(
            "simulated by engine {}, this server runs {}",
            receipt.engine,
            stampede_sim::ENGINE_VERSION
        )));
    }
    let level = catalog
        .get(&receipt.level)
        .ok_or_else(|| fail(format!("level `{}` is not on this server", receipt.level)))?;
    if catalog.hash(&receipt.level) != Some(receipt.level_hash.as_str()) {
        return Err(fail(format!(
            "level `{}` has changed since the attempt (its file hash differs)",
            receipt.level
        )));
    }
    let mut world = World::new(Arc::clone(&level), receipt.seed)
        .map_err(|r| fail(format!("the level does not start: {r}")))?;
    // The check compares results only: per-node detail would be built and thrown away.
    world.set_detailed_reports(false);
    let actions: Vec<TimedAction> = receipt
        .actions
        .iter()
        .map(|a| TimedAction {
            tick: a.tick,
            action: a.action.clone(),
        })
        .collect();
    let mut refused = None;
    let result = world.run_script_until(
        &actions,
        level.total_ticks(),
        |_| {},
        |i, r| {
            refused.get_or_insert((i, r.message.clone()));
        },
    );
    if let Some((i, why)) = refused {
        return Err(Box::new((
            format!("action {i} is refused when re-simulated: {why}"),
            Some(result),
        )));
    }
    if canonical_value(&result) != canonical_value(&receipt.result) {
        return Err(Box::new((
            format!(
                "re-simulating gives a different result (score {} instead of {})",
                result.score, receipt.result.score
            ),
            Some(result),
        )));
    }
    Ok(result)
}

/// A verification's outcome: the re-simulated result, or why the receipt is not valid (with
/// the re-simulated result when it got that far). Boxed: the error is rare and large.
type Checked = Result<stampede_sim::RunResult, Box<(String, Option<stampede_sim::RunResult>)>>;

/// The canonical encoding.
pub fn canonical(receipt: &Receipt) -> String {
    canonical_value(receipt)
}

fn canonical_value(v: &impl serde::Serialize) -> String {
    // Receipts hold no maps with non-string keys and no custom serializers: this cannot fail.
    serde_json::to_string(v).unwrap_or_else(|e| unreachable!("receipt parts serialize: {e}"))
}

/// The SHA-256 of a level file, hex (what receipts record).
pub fn level_hash(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Why a receipt could not be replayed: its level or engine is not the one it was played on.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ReplayError(String);

/// Re-simulates a receipt (trusted: one this server stored), sampling the system metrics every
/// `every` ticks. Refused actions are skipped, as the room would have answered them.
///
/// # Errors
/// When its level or engine changed since.
pub fn replay(
    receipt: Receipt,
    catalog: &Catalog,
    every: u64,
) -> Result<stampede_protocol::api::Replay, ReplayError> {
    use stampede_protocol::api::{Replay, ReplayFrame};
    if receipt.engine != stampede_sim::ENGINE_VERSION {
        return Err(ReplayError(format!(
            "simulated by engine {}, this server runs {}",
            receipt.engine,
            stampede_sim::ENGINE_VERSION
        )));
    }
    let level = catalog
        .get(&receipt.level)
        .filter(|_| catalog.hash(&receipt.level) == Some(receipt.level_hash.as_str()))
        .ok_or_else(|| {
            ReplayError(format!(
                "level `{}` is not on this server as it was played",
                receipt.level
            ))
        })?;
    let mut world = World::new(Arc::clone(&level), receipt.seed)
        .map_err(|r| ReplayError(format!("the level does not start: {r}")))?;
    // Frames carry system metrics only.
    world.set_detailed_reports(false);
    let actions: Vec<TimedAction> = receipt
        .actions
        .iter()
        .map(|a| TimedAction {
            tick: a.tick,
            action: a.action.clone(),
        })
        .collect();
    let every = every.max(1);
    let frame = |r: &stampede_sim::TickReport| ReplayFrame {
        tick: r.tick,
        t: r.t,
        system: r.system.clone(),
    };
    let mut frames = Vec::new();
    let result = world.run_script(&actions, |r| {
        if r.tick % every == 0 {
            frames.push(frame(r));
        }
    });
    // The run's last tick is always shown (its end may fall between samples).
    let last = world.last_report();
    if frames.last().is_none_or(|f| f.tick < last.tick) {
        frames.push(frame(last));
    }
    let matches = canonical_value(&result) == canonical_value(&receipt.result);
    Ok(Replay {
        receipt_id: receipt.id,
        level: level.id.clone(),
        seed: receipt.seed,
        tick_hz: level.tick_hz,
        total_ticks: level.total_ticks(),
        every,
        frames,
        result,
        matches,
    })
}
