//! Data portability (GDPR Art. 20): the values a subject provided, held for purposes based on
//! consent or on a contract, in a form another service can take in. Observed values (IP
//! address, how the website was used, device and log data) and derived ones are never in it,
//! nor purposes of other bases.

use integritet_domain::audit::AuditAction;
use integritet_domain::policy::LegalBasis;
use integritet_domain::subject::{Provenance, SubjectId};
use serde::Serialize;
use time::OffsetDateTime;

use super::{Actor, Vault, VaultError, distinct};
use crate::store::Writes;

/// A subject's portable data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PortableCopy {
    pub subject: SubjectId,
    pub values: Vec<PortableValue>,
}

/// One value the subject provided, with the consent and contract purposes it is held for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PortableValue {
    pub category: String,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub value: integritet_domain::personal::PersonalValue,
    #[serde(with = "time::serde::rfc3339")]
    pub collected_at: OffsetDateTime,
    pub purposes: Vec<String>,
}

impl PortableCopy {
    /// The copy as CSV: `category,value,collected_at,purposes` (purposes joined by `;`).
    pub fn to_csv(&self) -> Result<String, VaultError> {
        let mut out = csv::Writer::from_writer(Vec::new());
        let failed = |e: csv::Error| {
            VaultError::Store(crate::store::StoreError::Corrupt(format!(
                "the portable copy could not be written as CSV: {e}"
            )))
        };
        out.write_record(["category", "value", "collected_at", "purposes"])
            .map_err(failed)?;
        for value in &self.values {
            let at = value
                .collected_at
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default();
            out.write_record([
                value.category.as_str(),
                value.value.expose(),
                at.as_str(),
                value.purposes.join(";").as_str(),
            ])
            .map_err(failed)?;
        }
        let bytes = out
            .into_inner()
            .map_err(|e| failed(e.into_error().into()))?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }
}

impl Vault {
    /// The subject's portable copy, audited as an export of the categories it holds.
    pub async fn portability(
        &self,
        actor: &Actor,
        id: SubjectId,
    ) -> Result<PortableCopy, VaultError> {
        self.authorise_request(actor, id, "export a subject's portable data")
            .await?;
        let record = self
            .store
            .subject(id)
            .await?
            .ok_or(VaultError::NotFound { what: "subject" })?;
        let key = self.open_key(&record)?;
        let portable_purpose = |purpose: &String| {
            self.rules().purposes.get(purpose).is_some_and(|p| {
                matches!(
                    p.legal_basis,
                    Some(LegalBasis::Consent | LegalBasis::Contract)
                )
            })
        };
        let mut values = Vec::new();
        for stored in record
            .values
            .iter()
            .filter(|v| v.provenance == Provenance::Provided)
        {
            let purposes: Vec<String> = stored
                .purposes
                .iter()
                .filter(|p| portable_purpose(p))
                .cloned()
                .collect();
            if purposes.is_empty() {
                continue;
            }
            let opened = self.open_value(id, &key, stored);
            let view = self.audit_integrity(actor, opened).await?;
            values.push(PortableValue {
                category: view.category,
                value: view.value,
                collected_at: view.collected_at,
                purposes,
            });
        }
        let categories = distinct(values.iter().map(|v| v.category.clone()));
        let audit = self.draft(
            actor,
            AuditAction::Export,
            Some(id),
            None,
            categories,
            Some("portability".into()),
        );
        self.store.append_audit(vec![audit]).await?;
        Ok(PortableCopy {
            subject: id,
            values,
        })
    }
}
