//! Guest players: id, display name and the SHA-256 of their session token.
//! Invariant: a token is never stored, only its hash; rows are written idempotently by id.

use sqlx::Row;

use super::attempts::int;
use super::{Db, StoreError, bounded};

/// A stored player.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlayerRow {
    /// Player id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// SHA-256 of the session token, hex.
    pub token_hash: String,
    /// Unix ms.
    pub created_at: u64,
}

impl Db {
    /// Stores a player (a second write of the same id changes nothing).
    ///
    /// # Errors
    /// When the database fails or times out.
    pub async fn put_player(&self, p: &PlayerRow) -> Result<(), StoreError> {
        bounded(
            sqlx::query(
                "INSERT INTO players (id, name, token_hash, created_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (id) DO NOTHING",
            )
            .bind(&p.id)
            .bind(&p.name)
            .bind(&p.token_hash)
            .bind(int(p.created_at))
            .execute(self.pool()),
        )
        .await?;
        Ok(())
    }

    /// Revokes a session token: the row keeps the player's name, its hash no longer matches
    /// any token (idempotent).
    ///
    /// # Errors
    /// When the database fails or times out.
    pub async fn revoke_token(&self, token_hash: &str) -> Result<(), StoreError> {
        bounded(
            sqlx::query("UPDATE players SET token_hash = 'revoked:' || id WHERE token_hash = $1")
                .bind(token_hash)
                .execute(self.pool()),
        )
        .await?;
        Ok(())
    }

    /// The player whose token hashes to `token_hash`.
    ///
    /// # Errors
    /// When the database fails or times out.
    pub async fn player_by_token(&self, token_hash: &str) -> Result<Option<PlayerRow>, StoreError> {
        let row = bounded(
            sqlx::query(
                "SELECT id, name, token_hash, created_at FROM players WHERE token_hash = $1",
            )
            .bind(token_hash)
            .fetch_optional(self.pool()),
        )
        .await?;
        row.map(|r| {
            Ok(PlayerRow {
                id: r.try_get(0)?,
                name: r.try_get(1)?,
                token_hash: r.try_get(2)?,
                created_at: super::attempts::uint(r.try_get(3)?),
            })
        })
        .transpose()
        .map_err(StoreError::Sql)
    }

    /// A player's display name (from their attempts, if their row was never written: player
    /// rows go through the write queue, which may have been full).
    ///
    /// # Errors
    /// When the database fails or times out.
    pub async fn player_name(&self, id: &str) -> Result<Option<String>, StoreError> {
        let row = bounded(
            sqlx::query(
                "SELECT name FROM players WHERE id = $1 UNION ALL \
                 SELECT name FROM attempt_players WHERE player = $1 AND name <> '' LIMIT 1",
            )
            .bind(id)
            .fetch_optional(self.pool()),
        )
        .await?;
        row.map(|r| r.try_get::<String, _>(0).map_err(StoreError::Sql))
            .transpose()
    }
}
