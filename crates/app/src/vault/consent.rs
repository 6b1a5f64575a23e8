//! Cookie consent records: each decision checked against the policy's cookie section
//! (`integritet_domain::consent`), sealed under the record key bound to its id (a record planted
//! or edited in the database proves nothing), chained into the audit log by id (a record
//! removed leaves its entry behind), shown back to the visitor by its id as a receipt, and
//! exported as JSON-LD following the W3C DPV guide to ISO/IEC TS 27560.

use integritet_domain::audit::AuditAction;
use integritet_domain::consent::{self, ConsentStatus, Decision, DecisionInput};
use integritet_domain::policy::Lang;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use time::OffsetDateTime;

use super::{Actor, Vault, VaultError};
use crate::store::{ConsentRow, Writes};

/// The sealing table of consent records.
const TABLE: &str = "consent_records";
/// Records read per page of an export.
const PAGE: u32 = 1_000;

/// A kept decision, as the visitor's receipt shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentReceipt {
    pub id: uuid::Uuid,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    #[serde(flatten)]
    pub decision: Decision,
}

impl Vault {
    /// The banner version of the policy in force: the hash of its cookie section.
    pub fn banner_version(&self) -> String {
        consent::banner_version(&self.rules().cookies)
    }

    /// Keeps a visitor's decision, as the banner sent it, and gives its receipt.
    pub async fn record_consent(&self, input: DecisionInput) -> Result<ConsentReceipt, VaultError> {
        let decision = consent::check(&self.rules().cookies, input).map_err(|refused| {
            VaultError::Invalid {
                field: refused.field,
                code: refused.code,
                message: refused.message,
            }
        })?;
        let receipt = ConsentReceipt {
            id: uuid::Builder::from_random_bytes(self.random()).into_uuid(),
            at: self.clock.now(),
            decision,
        };
        let json = serde_json::to_vec(&receipt).map_err(|e| {
            VaultError::Policy(format!("a consent record could not be written: {e}"))
        })?;
        let sealed = self.with_rng(|rng| {
            self.record_key
                .seal(TABLE, receipt.id.as_bytes(), &json, rng)
        })?;
        let audit = self.draft(
            &Actor::system("consent"),
            AuditAction::ConsentRecorded,
            None,
            None,
            Vec::new(),
            Some(format!(
                "record={}; status={}; banner={}",
                receipt.id,
                receipt.decision.status.dpv(),
                receipt.decision.banner_version
            )),
        );
        let row = ConsentRow {
            id: receipt.id,
            at: receipt.at,
            sealed,
        };
        self.store.record_consent(row, vec![audit]).await?;
        Ok(receipt)
    }

    /// A visitor's own record by its id (a receipt): `None` for no such record, and for one
    /// that does not open (planted or edited in the database, which is audited).
    pub async fn consent_receipt(
        &self,
        id: uuid::Uuid,
    ) -> Result<Option<ConsentReceipt>, VaultError> {
        let Some(row) = self.store.consent_record(id).await? else {
            return Ok(None);
        };
        self.open_consent(&row).await
    }

    async fn open_consent(&self, row: &ConsentRow) -> Result<Option<ConsentReceipt>, VaultError> {
        let opened = self
            .record_key
            .open(TABLE, row.id.as_bytes(), &row.sealed)
            .ok()
            .and_then(|plain| serde_json::from_slice::<ConsentReceipt>(&plain).ok())
            .filter(|receipt| receipt.id == row.id && receipt.at == row.at);
        if opened.is_none() {
            let audit = self.draft(
                &Actor::system("consent"),
                AuditAction::IntegrityViolation,
                None,
                None,
                Vec::new(),
                Some(format!("table={TABLE}; record={}", row.id)),
            );
            self.store.append_audit(vec![audit]).await?;
        }
        Ok(opened)
    }

    /// Every record made since `since`, oldest first, as one JSON-LD document following the
    /// W3C DPV guide to ISO/IEC TS 27560 (`record-eu-gdpr`). A consent older than the policy's
    /// `consent_valid_months` is exported as expired. For who handles requests; audited.
    pub async fn consent_export(
        &self,
        actor: &Actor,
        since: OffsetDateTime,
    ) -> Result<Value, VaultError> {
        self.authorise_request_handling(actor, "export consent records")
            .await?;
        // No record is older than 1970 or made after 2200: a day outside asks for all of
        // them, or for none, and never for a time the store cannot hold.
        let since = since.clamp(
            OffsetDateTime::UNIX_EPOCH,
            time::macros::datetime!(2200-01-01 0:00 UTC),
        );
        let mut graph = Vec::new();
        let mut after = None;
        loop {
            let page = self.store.consent_records(since, after, PAGE).await?;
            let Some(last) = page.last() else { break };
            after = Some((last.at, last.id));
            for row in &page {
                if let Some(receipt) = self.open_consent(row).await? {
                    graph.push(self.json_ld(&receipt));
                }
            }
        }
        let audit = self.draft(
            actor,
            AuditAction::Export,
            None,
            None,
            Vec::new(),
            Some(format!("consent_records={}; since={since}", graph.len())),
        );
        self.store.append_audit(vec![audit]).await?;
        Ok(json!({
            "@context": {
                "dpv": "https://w3id.org/dpv#",
                "pd": "https://w3id.org/dpv/pd#",
                "eu-gdpr": "https://w3id.org/dpv/legal/eu/gdpr#",
                "loc": "https://w3id.org/dpv/loc#",
                "dct": "http://purl.org/dc/terms/",
                "xsd": "http://www.w3.org/2001/XMLSchema#",
                "integritet": "https://integritet.dev/ns#"
            },
            "@graph": graph,
        }))
    }

    fn json_ld(&self, receipt: &ConsentReceipt) -> Value {
        let policy = self.rules();
        let decision = &receipt.decision;
        let at = receipt
            .at
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default();
        let expired = decision.status == ConsentStatus::Given
            && policy.cookies.consent_valid_months.is_some_and(|months| {
                integritet_domain::retention::add_months(receipt.at.date(), months)
                    < self.clock.today()
            });
        let status = if expired {
            "dpv:ConsentExpired"
        } else {
            decision.status.dpv()
        };
        let purposes: Vec<Value> = decision
            .choices
            .iter()
            .map(|(key, granted)| {
                let category = policy.cookies.categories.get(key);
                let necessary = category.is_some_and(|c| c.strictly_necessary);
                json!({
                    "@id": format!("integritet:cookie-category/{key}"),
                    "@type": "dpv:Purpose",
                    "dct:title": category.map(|c| c.label.get(decision.lang)).unwrap_or(key),
                    "dpv:hasNecessity": if necessary { "dpv:Required" } else { "dpv:Optional" },
                    "dpv:hasConsentStatus": if necessary {
                        Value::Null
                    } else if *granted {
                        json!("dpv:ConsentGiven")
                    } else {
                        json!("dpv:ConsentRefused")
                    },
                    "integritet:marketsOrShares": category.is_some_and(|c| c.markets_or_shares),
                })
            })
            .collect();
        json!({
            "@id": format!("urn:uuid:{}", receipt.id),
            "@type": "dpv:ConsentRecord",
            "dct:identifier": receipt.id.to_string(),
            "dct:conformsTo": "https://w3id.org/dpv/schema/dpv-27560#record-eu-gdpr",
            "dct:created": {"@value": at, "@type": "xsd:dateTime"},
            "dpv:hasDataSubject": {
                "@id": format!("integritet:visitor/{}", decision.visitor),
                "@type": "dpv:Visitor",
            },
            "dpv:hasDataController": {
                "@type": "dpv:DataController",
                "dct:title": policy.controller.name,
                "dct:identifier": policy.controller.org_number,
            },
            "dpv:hasApplicableLaw": ["eu-gdpr:GDPR"],
            "dpv:hasJurisdiction": "loc:SE",
            "dpv:hasLegalBasis": "eu-gdpr:A6-1-a",
            "dpv:hasConsentStatus": status,
            "dpv:isIndicatedAtTime": {"@value": at, "@type": "xsd:dateTime"},
            "dpv:isIndicatedBy": {"@id": format!("integritet:visitor/{}", decision.visitor)},
            "dpv:hasNotice": {
                "@id": format!("integritet:banner/{}", decision.banner_version),
                "@type": "dpv:ConsentNotice",
                "dct:hasVersion": decision.banner_version,
                "dct:language": match decision.lang { Lang::Sv => "sv", Lang::En => "en" },
                "integritet:textHash": {"integritet:algorithm": "BLAKE3", "@value": decision.text_hash},
            },
            "dpv:hasPurpose": purposes,
            "dpv:hasPersonalData": ["pd:Identifier", "pd:BrowsingBehavior"],
            "integritet:page": decision.page,
            "integritet:globalPrivacyControl": decision.gpc,
            "integritet:againstGlobalPrivacyControl": decision.gpc_conflict,
            "integritet:withdrawal": {
                "dct:description": "the banner's withdrawal control, which the shop's pages can place anywhere; it records every category refused (POST /consent with \"withdrawal\": true)",
            },
        })
    }
}

impl Vault {
    /// What `/.well-known/gpc.json` says: whether the site honours Global Privacy Control, and
    /// since when (the day the policy in force was put in force).
    pub async fn gpc_statement(&self) -> Result<(bool, time::Date), VaultError> {
        let since = self
            .policy_history()
            .await?
            .into_iter()
            .find(|entry| entry.current)
            .map_or_else(|| self.clock.today(), |entry| entry.activated_at.date());
        Ok((self.rules().cookies.honour_gpc, since))
    }
}
