//! Cookie consent records: kept as proof, read back by the visitor, exported as JSON-LD, and a
//! record planted in the database proves nothing.

use std::collections::BTreeMap;
use std::sync::Arc;

use integritet_domain::Clock;
use integritet_domain::consent::{ConsentStatus, DecisionInput};
use integritet_domain::policy::Lang;

use super::{operator, vault_over};
use crate::audit_log;
use crate::store::ConsentRow;
use crate::store::prelude::*;
use crate::vault::{Actor, VaultError};

fn decision(vault: &crate::vault::Vault, statistics: Option<bool>) -> DecisionInput {
    DecisionInput {
        visitor: "q3Zk1o9VbH2mX0cW7yTn4A".into(),
        banner_version: vault.banner_version(),
        text_hash: "ab".repeat(32),
        lang: Lang::Sv,
        choices: statistics
            .map(|s| BTreeMap::from([("statistics".to_owned(), s)]))
            .unwrap_or_default(),
        gpc: false,
        page: "https://smart-telematik.se/?utm=x".into(),
        withdrawal: false,
    }
}

pub async fn a_consent_decision_is_kept_as_proof_and_exported_as_json_ld(store: Arc<dyn Store>) {
    let (vault, clock) = vault_over(store.clone());
    let refused = vault.record_consent(decision(&vault, None)).await.unwrap();
    assert_eq!(refused.decision.status, ConsentStatus::Refused);
    assert_eq!(refused.decision.page, "https://smart-telematik.se/");
    assert_eq!(
        vault.consent_receipt(refused.id).await.unwrap(),
        Some(refused.clone())
    );
    let given = vault
        .record_consent(decision(&vault, Some(true)))
        .await
        .unwrap();
    assert_eq!(given.decision.status, ConsentStatus::Given);

    // A decision that is no proof is refused with its field.
    let err = vault
        .record_consent(DecisionInput {
            text_hash: "not a hash".into(),
            ..decision(&vault, None)
        })
        .await
        .unwrap_err();
    assert!(
        matches!(err, VaultError::Invalid { ref field, .. } if field == "text_hash"),
        "{err:?}"
    );

    // A record planted in the database does not open: no receipt, not exported, audited.
    let planted = ConsentRow {
        id: uuid::Uuid::from_u128(7),
        at: given.at,
        sealed: vec![1; 80],
    };
    assert!(store.record_consent(planted, Vec::new()).await.unwrap());
    assert_eq!(
        vault
            .consent_receipt(uuid::Uuid::from_u128(7))
            .await
            .unwrap(),
        None
    );

    let export = vault
        .consent_export(&operator(), time::OffsetDateTime::UNIX_EPOCH)
        .await
        .unwrap();
    let graph = export["@graph"].as_array().unwrap();
    assert_eq!(graph.len(), 2, "{export}");
    let first = &graph[0];
    assert_eq!(first["@type"], "dpv:ConsentRecord");
    assert_eq!(
        first["dct:conformsTo"],
        "https://w3id.org/dpv/schema/dpv-27560#record-eu-gdpr"
    );
    assert_eq!(first["dpv:hasConsentStatus"], "dpv:ConsentRefused");
    assert_eq!(
        first["dpv:hasNotice"]["dct:hasVersion"],
        vault.banner_version()
    );
    assert_eq!(graph[1]["dpv:hasConsentStatus"], "dpv:ConsentGiven");
    assert_eq!(
        first["dpv:hasDataController"]["dct:identifier"],
        vault.policy().policy.controller.org_number
    );
    assert!(!export.to_string().contains("utm"), "no query is kept");

    // Past consent_valid_months (12 in the seed) a consent is exported as expired.
    clock.advance(time::Duration::days(400));
    let export = vault
        .consent_export(&operator(), time::OffsetDateTime::UNIX_EPOCH)
        .await
        .unwrap();
    assert_eq!(
        export["@graph"][1]["dpv:hasConsentStatus"],
        "dpv:ConsentExpired"
    );
    assert_eq!(
        export["@graph"][0]["dpv:hasConsentStatus"],
        "dpv:ConsentRefused"
    );
    // Since a day: none made after it.
    let none = vault
        .consent_export(&operator(), clock.now())
        .await
        .unwrap();
    assert_eq!(none["@graph"].as_array().unwrap().len(), 0);

    // Days no record can have are no error.
    for day in [
        time::macros::datetime!(0575-12-21 0:00 UTC),
        time::macros::datetime!(9999-12-31 0:00 UTC),
    ] {
        let export = vault.consent_export(&operator(), day).await.unwrap();
        assert!(export["@graph"].is_array());
    }

    let support = Actor::staff("token:s1", "support");
    let err = vault
        .consent_export(&support, time::OffsetDateTime::UNIX_EPOCH)
        .await
        .unwrap_err();
    assert!(matches!(err, VaultError::Forbidden(_)), "{err:?}");
    audit_log::verify(store.as_ref(), |_| {}).await.unwrap();
}
