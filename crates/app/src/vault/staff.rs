//! Staff tokens issued over the API by the administrator, with the vault's own randomness.

use std::convert::Infallible;

use integritet_crypto::rand_core::{TryCryptoRng, TryRng};

use super::{Actor, Vault, VaultError};
use crate::store::TokenRecord;
use crate::tokens::{self, IssueError, SecretToken, TokenRequest};

/// The vault's random source, borrowed for one call that draws across awaits.
struct VaultRng<'a>(&'a Vault);

impl TryRng for VaultRng<'_> {
    type Error = Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        let mut bytes = [0u8; 4];
        self.0.with_rng(|rng| rng.fill_bytes(&mut bytes));
        Ok(u32::from_le_bytes(bytes))
    }

    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        let mut bytes = [0u8; 8];
        self.0.with_rng(|rng| rng.fill_bytes(&mut bytes));
        Ok(u64::from_le_bytes(bytes))
    }

    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), Infallible> {
        self.0.with_rng(|rng| rng.fill_bytes(dest));
        Ok(())
    }
}

// Every byte comes from the vault's CSPRNG.
impl TryCryptoRng for VaultRng<'_> {}

impl Vault {
    /// Issues a staff token for a role of the policy; audited with the actor's id.
    pub async fn issue_token(
        &self,
        actor: &Actor,
        request: TokenRequest,
    ) -> Result<(TokenRecord, SecretToken), VaultError> {
        self.authorise_admin(actor, "issue staff tokens").await?;
        let mut rng = VaultRng(self);
        tokens::issue_token(
            self.store.as_ref(),
            &self.record_key,
            self.clock.now(),
            &mut rng,
            &actor.id(),
            request,
            &self.policy,
        )
        .await
        .map_err(|e| match e {
            IssueError::Store(e) => VaultError::Store(e),
            IssueError::UnknownRole { .. } => {
                VaultError::invalid("role", "unknown_role", e.to_string())
            }
            IssueError::BadExpiry => {
                VaultError::invalid("expires_in_days", "bad_expiry", e.to_string())
            }
            IssueError::BadLabel => VaultError::invalid("label", "bad_label", e.to_string()),
        })
    }

    /// Every staff token (never a secret), for the administrator.
    pub async fn list_tokens(&self, actor: &Actor) -> Result<Vec<TokenRecord>, VaultError> {
        self.authorise_admin(actor, "list staff tokens").await?;
        Ok(self.store.list_tokens().await?)
    }

    /// Revokes a staff token; false when there is no active token with that id.
    pub async fn revoke_token(&self, actor: &Actor, id: &str) -> Result<bool, VaultError> {
        self.authorise_admin(actor, "revoke staff tokens").await?;
        Ok(tokens::revoke_token(
            self.store.as_ref(),
            &self.record_key,
            self.clock.now(),
            &actor.id(),
            id,
            self.policy.version.as_str(),
        )
        .await?)
    }
}
