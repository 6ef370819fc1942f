//! Access tokens and web sessions: who may read and who may change.
//!
//! A token reads `ys_<id>_<secret>`. The id finds the row; only an Argon2id
//! hash of the secret is stored, so a leaked database reveals no token.
//! Verifying Argon2 is slow by design, so a successful verification is
//! remembered (by the token's SHA-256) for the life of the process; revocation
//! is still seen at once because the row is read on every request.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use chrono::{DateTime, Duration, Utc};
use entity::{access_token, web_session};
use rand_core::{OsRng, RngCore};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, QueryFilter, QueryOrder, TransactionTrait,
};
use serde_json::json;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::error::{Denial, ServiceError, ServiceResult};
use crate::service::audit::{self, Change, Subject};

/// What a token allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Read everything, even when reads are closed to the public.
    Reader,
    /// Read and change everything.
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Reader => "reader",
            Self::Admin => "admin",
        }
    }

    /// Parses a stored or typed role name.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "reader" => Some(Self::Reader),
            "admin" => Some(Self::Admin),
            _ => None,
        }
    }
}

/// A token just created: the only time its plaintext exists.
#[derive(Debug, Clone)]
pub struct CreatedToken {
    pub id: Uuid,
    pub name: String,
    pub role: Role,
    /// Shown once to whoever created it; never stored.
    pub token: String,
}

/// Who a verified token or session belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    pub token_id: Uuid,
    pub name: String,
    pub role: Role,
}

const PREFIX: &str = "ys_";
const SECRET_BYTES: usize = 32;
/// How long a web session lasts after sign-in.
const SESSION_HOURS: i64 = 12;
/// Verified tokens remembered at most; the memo is cleared when full.
const MEMO_CAPACITY: usize = 4096;

/// Remembers tokens whose secret already verified, by the token's SHA-256.
#[derive(Debug, Clone, Default)]
pub struct VerifiedTokens(Arc<Mutex<HashMap<[u8; 32], Uuid>>>);

impl VerifiedTokens {
    fn knows(&self, digest: &[u8; 32], id: Uuid) -> bool {
        self.0
            .lock()
            .map(|memo| memo.get(digest) == Some(&id))
            .unwrap_or(false)
    }

    fn remember(&self, digest: [u8; 32], id: Uuid) {
        if let Ok(mut memo) = self.0.lock() {
            if memo.len() >= MEMO_CAPACITY {
                memo.clear();
            }
            memo.insert(digest, id);
        }
    }
}

fn random_hex(bytes: usize) -> String {
    let mut buffer = vec![0u8; bytes];
    OsRng.fill_bytes(&mut buffer);
    hex::encode(buffer)
}

fn sha256(text: &str) -> [u8; 32] {
    Sha256::digest(text.as_bytes()).into()
}

/// Splits `ys_<id>_<secret>` into its id and secret.
fn split_token(token: &str) -> Option<(Uuid, &str)> {
    let rest = token.strip_prefix(PREFIX)?;
    let (id, secret) = rest.split_once('_')?;
    let id = Uuid::try_parse(id).ok()?;
    (!secret.is_empty()).then_some((id, secret))
}

fn hash_secret(secret: &str) -> ServiceResult<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(secret.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|error| ServiceError::Internal(sea_orm::DbErr::Custom(error.to_string())))
}

fn secret_matches(secret: &str, stored: &str) -> bool {
    PasswordHash::new(stored)
        .map(|hash| {
            Argon2::default()
                .verify_password(secret.as_bytes(), &hash)
                .is_ok()
        })
        .unwrap_or(false)
}

fn token_json(token: &access_token::Model) -> serde_json::Value {
    json!({
        "name": token.name,
        "role": token.role,
        "createdAt": token.created_at,
        "revokedAt": token.revoked_at,
    })
}

/// Creates a token named `name`; the plaintext is in the result only.
pub async fn create_token(
    db: &DatabaseConnection,
    name: &str,
    role: Role,
    actor: &str,
) -> ServiceResult<CreatedToken> {
    let name = name.trim();
    if name.is_empty() {
        return Err(ServiceError::invalid("name", "must not be empty"));
    }
    let id = Uuid::new_v4();
    let secret = random_hex(SECRET_BYTES);
    let hash = tokio::task::spawn_blocking(move || hash_secret(&secret).map(|h| (secret, h)))
        .await
        .map_err(|error| ServiceError::Internal(sea_orm::DbErr::Custom(error.to_string())))?;
    let (secret, hash) = hash?;
    let row = access_token::ActiveModel {
        id: Set(id),
        name: Set(name.to_string()),
        role: Set(role.as_str().to_string()),
        secret_hash: Set(hash),
        created_at: Set(Utc::now()),
        created_by: Set(actor.to_string()),
        revoked_at: Set(None),
        revoked_by: Set(None),
    };
    let tx = db.begin().await?;
    let exists = access_token::Entity::find()
        .filter(access_token::Column::Name.eq(name))
        .one(&tx)
        .await?
        .is_some();
    if exists {
        return Err(ServiceError::Exists {
            entity: "access token",
            key: name.to_string(),
        });
    }
    let stored = row.insert(&tx).await?;
    audit::record(
        &tx,
        Change {
            actor,
            action: "access_token.create",
            subject: Subject::new("access_token", name),
            before: None,
            after: Some(token_json(&stored)),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(CreatedToken {
        id,
        name: name.to_string(),
        role,
        token: format!("{PREFIX}{}_{secret}", id.simple()),
    })
}

/// Lists every token, revoked ones included, oldest first.
pub async fn list_tokens<C: ConnectionTrait>(db: &C) -> ServiceResult<Vec<access_token::Model>> {
    Ok(access_token::Entity::find()
        .order_by_asc(access_token::Column::CreatedAt)
        .all(db)
        .await?)
}

/// Revokes the token named `name`; it stops working at once.
pub async fn revoke_token(
    db: &DatabaseConnection,
    name: &str,
    actor: &str,
) -> ServiceResult<access_token::Model> {
    let tx = db.begin().await?;
    let token = access_token::Entity::find()
        .filter(access_token::Column::Name.eq(name))
        .one(&tx)
        .await?
        .ok_or_else(|| ServiceError::not_found("access token", name))?;
    if token.revoked_at.is_some() {
        return Err(ServiceError::invalid_state(format!(
            "access token `{name}` is revoked already"
        )));
    }
    let before = token_json(&token);
    let mut active: access_token::ActiveModel = token.into();
    active.revoked_at = Set(Some(Utc::now()));
    active.revoked_by = Set(Some(actor.to_string()));
    let revoked = active.update(&tx).await?;
    audit::record(
        &tx,
        Change {
            actor,
            action: "access_token.revoke",
            subject: Subject::new("access_token", name),
            before: Some(before),
            after: Some(token_json(&revoked)),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(revoked)
}

fn holder_of(token: &access_token::Model) -> ServiceResult<Holder> {
    if token.revoked_at.is_some() {
        return Err(ServiceError::Denied(Denial::TokenRevoked));
    }
    let role = Role::parse(&token.role).ok_or(ServiceError::Denied(Denial::InvalidToken))?;
    Ok(Holder {
        token_id: token.id,
        name: token.name.clone(),
        role,
    })
}

/// Checks a presented token; a wrong or revoked one is a denial.
pub async fn verify_token<C: ConnectionTrait>(
    db: &C,
    memo: &VerifiedTokens,
    presented: &str,
) -> ServiceResult<Holder> {
    let invalid = ServiceError::Denied(Denial::InvalidToken);
    let Some((id, secret)) = split_token(presented) else {
        return Err(invalid);
    };
    let Some(token) = access_token::Entity::find_by_id(id).one(db).await? else {
        return Err(invalid);
    };
    let digest = sha256(presented);
    if !memo.knows(&digest, id) {
        let (secret, stored) = (secret.to_string(), token.secret_hash.clone());
        let matches = tokio::task::spawn_blocking(move || secret_matches(&secret, &stored))
            .await
            .unwrap_or(false);
        if !matches {
            return Err(invalid);
        }
        memo.remember(digest, id);
    }
    holder_of(&token)
}

/// A session just opened: the cookie value and the CSRF token, both secret.
#[derive(Debug, Clone)]
pub struct OpenedSession {
    pub cookie: String,
    pub csrf_token: String,
    pub expires_at: DateTime<Utc>,
    pub holder: Holder,
}

/// A session found from its cookie.
#[derive(Debug, Clone)]
pub struct Session {
    pub id: Uuid,
    pub csrf_token: String,
    pub holder: Holder,
}

/// Opens a web session for an admin token (readers need no session).
pub async fn open_session<C: ConnectionTrait>(
    db: &C,
    holder: Holder,
) -> ServiceResult<OpenedSession> {
    if holder.role != Role::Admin {
        return Err(ServiceError::Denied(Denial::Forbidden));
    }
    let id = Uuid::new_v4();
    let secret = random_hex(SECRET_BYTES);
    let csrf_token = random_hex(SECRET_BYTES);
    let now = Utc::now();
    let expires_at = now + Duration::hours(SESSION_HOURS);
    web_session::ActiveModel {
        id: Set(id),
        token_id: Set(holder.token_id),
        secret_sha256: Set(hex::encode(sha256(&secret))),
        csrf_token: Set(csrf_token.clone()),
        created_at: Set(now),
        expires_at: Set(expires_at),
        ended_at: Set(None),
    }
    .insert(db)
    .await?;
    tracing::info!(token = %holder.name, "web session opened");
    Ok(OpenedSession {
        cookie: format!("{}.{secret}", id.simple()),
        csrf_token,
        expires_at,
        holder,
    })
}

/// Finds the live session a cookie names; ended, expired or revoked ones are denied.
pub async fn find_session<C: ConnectionTrait>(db: &C, cookie: &str) -> ServiceResult<Session> {
    let invalid = ServiceError::Denied(Denial::InvalidToken);
    let Some((id, secret)) = cookie.split_once('.') else {
        return Err(invalid);
    };
    let Ok(id) = Uuid::try_parse(id) else {
        return Err(invalid);
    };
    let Some(session) = web_session::Entity::find_by_id(id).one(db).await? else {
        return Err(invalid);
    };
    let digest = hex::encode(sha256(secret));
    let live = session.ended_at.is_none() && session.expires_at > Utc::now();
    if !live || !constant_time_eq(digest.as_bytes(), session.secret_sha256.as_bytes()) {
        return Err(invalid);
    }
    let token = access_token::Entity::find_by_id(session.token_id)
        .one(db)
        .await?
        .ok_or(ServiceError::Denied(Denial::InvalidToken))?;
    Ok(Session {
        id: session.id,
        csrf_token: session.csrf_token,
        holder: holder_of(&token)?,
    })
}

/// Ends a session (sign-out); its cookie stops working.
pub async fn end_session<C: ConnectionTrait>(db: &C, session: &Session) -> ServiceResult<()> {
    let Some(row) = web_session::Entity::find_by_id(session.id).one(db).await? else {
        return Ok(());
    };
    let mut active: web_session::ActiveModel = row.into();
    active.ended_at = Set(Some(Utc::now()));
    active.update(db).await?;
    tracing::info!(token = %session.holder.name, "web session ended");
    Ok(())
}

/// Compares two secrets in time independent of where they differ.
pub fn constant_time_eq(left: &[u8], right: &[u8]) -> bool {
    left.len() == right.len()
        && left
            .iter()
            .zip(right)
            .fold(0u8, |difference, (l, r)| difference | (l ^ r))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_split_into_id_and_secret() {
        let id = Uuid::new_v4();
        let token = format!("ys_{}_abc", id.simple());
        assert_eq!(split_token(&token), Some((id, "abc")));
        assert_eq!(split_token("ys_nothex_abc"), None);
        assert_eq!(split_token(&format!("ys_{}_", id.simple())), None);
        assert_eq!(split_token("bearer"), None);
    }

    #[test]
    fn secrets_verify_against_their_hash_only() -> ServiceResult<()> {
        let hash = hash_secret("right")?;
        assert!(hash.starts_with("$argon2id$"));
        assert!(secret_matches("right", &hash));
        assert!(!secret_matches("wrong", &hash));
        assert!(!secret_matches("right", "not a hash"));
        Ok(())
    }

    #[test]
    fn comparison_needs_equal_bytes() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
