//! Guest sessions: opaque random tokens, stored only as SHA-256 hashes.
//! Invariant: a token is never stored or logged; only its hash is kept (RELIABILITY.md), here
//! as a cache in front of the `players` table, which outlives the process.

use dashmap::DashMap;
use sha2::{Digest, Sha256};
use stampede_protocol::PlayerId;

/// Who a session belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Player {
    /// Id.
    pub id: PlayerId,
    /// Display name.
    pub name: String,
}

/// Sessions this process has seen (created here, or read back from the `players` table).
#[derive(Debug, Default)]
pub struct Sessions {
    by_hash: DashMap<[u8; 32], Player>,
    /// Tokens revoked by this process: never looked up in storage again, even before the
    /// revocation reaches the `players` table through the write queue.
    revoked: DashMap<[u8; 32], ()>,
}

/// Why a name was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("name must be 1 to 32 characters of letters, digits, spaces, '-', '_' or '.'")]
pub struct BadName;

impl Sessions {
    /// Creates a guest session; returns the token (shown once) and the player.
    ///
    /// # Errors
    /// `BadName` when the name is empty, too long or has other characters.
    pub fn create(&self, name: &str) -> Result<(String, Player), BadName> {
        let name = name.trim();
        let ok = !name.is_empty()
            && name.chars().count() <= 32
            && name
                .chars()
                .all(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '_' | '.'));
        if !ok {
            return Err(BadName);
        }
        // Two v4 UUIDs: 244 random bits from the OS generator.
        let token = format!(
            "{}{}",
            uuid::Uuid::new_v4().simple(),
            uuid::Uuid::new_v4().simple()
        );
        let player = Player {
            id: PlayerId(format!("p-{}", uuid::Uuid::new_v4().simple())),
            name: name.to_owned(),
        };
        self.by_hash.insert(hash(&token), player.clone());
        Ok((token, player))
    }

    /// The player a token belongs to.
    pub fn lookup(&self, token: &str) -> Option<Player> {
        self.by_hash.get(&hash(token)).map(|p| p.clone())
    }

    /// Caches a session read back from storage.
    pub fn remember(&self, token: &str, player: Player) {
        self.by_hash.insert(hash(token), player);
    }

    /// Revokes a token in this process; returns whether it was known here. (`AppState::
    /// revoke_session` also revokes it in storage.)
    pub fn revoke(&self, token: &str) -> bool {
        let h = hash(token);
        self.revoked.insert(h, ());
        self.by_hash.remove(&h).is_some()
    }

    /// Whether this process revoked the token.
    pub fn is_revoked(&self, token: &str) -> bool {
        self.revoked.contains_key(&hash(token))
    }
}

fn hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// The stored form of a token: SHA-256, hex.
pub fn token_hash(token: &str) -> String {
    hash(token).iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_authenticate_until_revoked_and_names_are_checked() {
        let s = Sessions::default();
        let (token, p) = s.create("  Ada ").unwrap();
        assert_eq!(p.name, "Ada");
        assert!(token.len() >= 32);
        assert_eq!(s.lookup(&token), Some(p));
        assert!(s.revoke(&token));
        assert_eq!(s.lookup(&token), None);
        assert!(s.is_revoked(&token));
        assert!(s.create("").is_err());
        assert!(s.create(&"x".repeat(33)).is_err());
        assert!(s.create("<script>").is_err());
    }
}
