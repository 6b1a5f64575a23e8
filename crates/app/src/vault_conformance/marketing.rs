//! Marketing scenarios: who an audience holds, one-click unsubscribe links, opt-outs recorded
//! by staff, and the NIX register. Run on every backend by `vault_tests!`.

use std::sync::Arc;

use integritet_domain::audit::AuditAction;
use integritet_domain::personal::PersonalValue;
use integritet_domain::policy::MarketingChannel;
use integritet_domain::subject::{Provenance, SubjectId, SubjectKind};

use super::{START, operator, vault_over};
use crate::audit_log;
use crate::store::prelude::*;
use crate::vault::{
    Actor, LinkState, LookupKind, NewActivity, NewSubjectInput, NewValue, Vault, VaultError,
};

/// A customer who bought on the scenario's first day, with an e-mail address and a phone
/// number collected for `contact_purposes`.
fn person(email: &str, phone: &str, contact_purposes: &[&str]) -> NewSubjectInput {
    let value = |category: &str, v: &str, purposes: &[&str]| NewValue {
        category: category.into(),
        value: PersonalValue::new(v),
        provenance: Provenance::Provided,
        purposes: purposes.iter().map(|p| (*p).to_owned()).collect(),
        collected_at: None,
    };
    // The newsletter is sent by e-mail only: it holds no phone number.
    let mut phone_purposes: Vec<&str> = contact_purposes
        .iter()
        .copied()
        .filter(|p| *p != "newsletter")
        .collect();
    if phone_purposes.is_empty() {
        phone_purposes.push("purchase");
    }
    NewSubjectInput {
        kind: SubjectKind::Person,
        values: vec![
            value("name", "Kund Kundsson", &["purchase"]),
            value("email", email, contact_purposes),
            value("phone", phone, &phone_purposes),
        ],
        activities: vec![NewActivity {
            kind: "purchase".into(),
            at: START,
        }],
    }
}

async fn emails(vault: &Vault, purpose: &str) -> Vec<String> {
    contacts(vault, purpose, MarketingChannel::Email).await
}

async fn contacts(vault: &Vault, purpose: &str, channel: MarketingChannel) -> Vec<String> {
    let mut found: Vec<String> = vault
        .audience(&marketer(), purpose, channel, None)
        .await
        .unwrap()
        .contacts
        .into_iter()
        .map(|c| c.contact.expose().to_owned())
        .collect();
    found.sort();
    found
}

fn marketer() -> Actor {
    Actor::staff("token:m1", "marketing")
}

const CUSTOMER: &[&str] = &["purchase", "direct_marketing"];

pub async fn an_audience_holds_only_who_may_be_reached_today(store: Arc<dyn Store>) {
    let (vault, clock) = vault_over(store.clone());
    let actor = operator();
    vault
        .create_subject(&actor, person("anna@example.se", "+46701111111", CUSTOMER))
        .await
        .unwrap();
    let objected = vault
        .create_subject(&actor, person("bo@example.se", "+46702222222", CUSTOMER))
        .await
        .unwrap();
    vault
        .object(&actor, objected, "direct_marketing")
        .await
        .unwrap();
    let restricted = vault
        .create_subject(&actor, person("cia@example.se", "+46703333333", CUSTOMER))
        .await
        .unwrap();
    vault
        .set_restricted(&actor, restricted, true)
        .await
        .unwrap();
    // Bought, but the address was never given for marketing.
    vault
        .create_subject(
            &actor,
            person("dan@example.se", "+46704444444", &["purchase"]),
        )
        .await
        .unwrap();
    // Subscribed to the newsletter (consent), not a customer's marketing.
    vault
        .create_subject(
            &actor,
            person("eva@example.se", "+46705555555", &["newsletter"]),
        )
        .await
        .unwrap();
    // Objected, erased, and imported again with the address in other letters.
    let gone = vault
        .create_subject(&actor, person("fia@example.se", "+46706666666", CUSTOMER))
        .await
        .unwrap();
    vault
        .object(&actor, gone, "direct_marketing")
        .await
        .unwrap();
    vault.erase(&actor, gone, "request").await.unwrap();
    vault
        .create_subject(&actor, person("Fia@Example.SE", "+46706666667", CUSTOMER))
        .await
        .unwrap();

    assert_eq!(
        emails(&vault, "direct_marketing").await,
        vec!["anna@example.se"]
    );
    assert_eq!(emails(&vault, "newsletter").await, vec!["eva@example.se"]);
    assert_eq!(
        contacts(&vault, "direct_marketing", MarketingChannel::Phone).await,
        vec!["+46701111111", "+46706666667"]
    );
    // A number in NIX-Telefon gets no sales call, however the register writes it.
    let imported = vault
        .import_nix(&actor, "# NIX-Telefon\n070-111 11 11\n\n+46 70 999 99 99\n")
        .await
        .unwrap();
    assert_eq!(imported, 2);
    assert_eq!(vault.nix_entries(&actor).await.unwrap(), 2);
    assert_eq!(
        contacts(&vault, "direct_marketing", MarketingChannel::Phone).await,
        vec!["+46706666667"]
    );
    // E-mail is not a call: NIX does not touch it.
    assert_eq!(
        emails(&vault, "direct_marketing").await,
        vec!["anna@example.se"]
    );
    // A register with a line that is no number replaces nothing.
    let bad = vault
        .import_nix(&actor, "070-111 11 11\nring mig inte\n")
        .await
        .unwrap_err();
    assert!(
        matches!(bad, VaultError::Invalid { ref field, .. } if field == "line 2"),
        "{bad:?}"
    );
    assert_eq!(vault.nix_entries(&actor).await.unwrap(), 2);

    // Not by a channel the purpose does not offer, and not for a purpose that is no marketing.
    for (purpose, channel) in [
        ("newsletter", MarketingChannel::Phone),
        ("purchase", MarketingChannel::Email),
    ] {
        let err = vault
            .audience(&actor, purpose, channel, None)
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                VaultError::Invalid {
                    code: "not_this_channel",
                    ..
                }
            ),
            "{err:?}"
        );
    }
    // Only a role that holds the purpose draws its audience.
    let support = Actor::staff("token:s1", "support");
    let err = vault
        .audience(&support, "direct_marketing", MarketingChannel::Email, None)
        .await
        .unwrap_err();
    assert!(matches!(err, VaultError::Forbidden(_)), "{err:?}");

    // 36 months after the last purchase they are no longer existing customers.
    clock.advance(time::Duration::days(37 * 31));
    assert!(emails(&vault, "direct_marketing").await.is_empty());
    // Consent has no end date.
    assert_eq!(emails(&vault, "newsletter").await, vec!["eva@example.se"]);

    // Every draw is audited with its purpose and size, and no contact is in the log.
    let entries = store.audit_entries(0, u64::MAX, 10_000).await.unwrap();
    let draws: Vec<_> = entries
        .iter()
        .filter(|e| e.draft.action == AuditAction::MarketingAudience)
        .collect();
    assert!(draws.len() >= 6);
    assert_eq!(draws[0].draft.purpose.as_deref(), Some("direct_marketing"));
    assert_eq!(
        draws[0].draft.detail.as_deref(),
        Some("channel=email; contacts=1")
    );
    for entry in &entries {
        let text = format!("{entry:?}");
        assert!(!text.contains("anna@example.se") && !text.contains("701111111"));
    }
}

pub async fn an_unsubscribe_link_opts_out_once_and_a_forged_one_does_nothing(
    store: Arc<dyn Store>,
) {
    let (vault, _) = vault_over(store.clone());
    let actor = operator();
    let anna = vault
        .create_subject(&actor, person("anna@example.se", "+46701111111", CUSTOMER))
        .await
        .unwrap();
    let bo = vault
        .create_subject(&actor, person("bo@example.se", "+46702222222", CUSTOMER))
        .await
        .unwrap();
    let link = |subject: SubjectId, campaign: Option<&'static str>| {
        let vault = &vault;
        async move {
            vault
                .unsubscribe_token(
                    &marketer(),
                    subject,
                    "direct_marketing",
                    MarketingChannel::Email,
                    campaign,
                )
                .await
                .unwrap()
        }
    };
    let annas = link(anna, Some("spring-2026")).await;
    let bos = link(bo, None).await;
    assert_ne!(annas, bos);
    assert!(
        !annas.contains("anna") && annas.len() < 200,
        "opaque and short: {annas}"
    );

    // Looking at a link changes nothing, however often (mail scanners follow links).
    for _ in 0..3 {
        match vault.unsubscribe_state(&annas).await.unwrap() {
            LinkState::Valid(target) => {
                assert_eq!(target.purpose, "direct_marketing");
                assert_eq!(target.channel, MarketingChannel::Email);
                assert_eq!(target.campaign.as_deref(), Some("spring-2026"));
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(
        emails(&vault, "direct_marketing").await,
        vec!["anna@example.se", "bo@example.se"]
    );

    // Forged, altered and other installations' links are nobody's.
    let mut altered = annas.clone().into_bytes();
    let at = altered.len() / 2;
    altered[at] = if altered[at] == b'A' { b'B' } else { b'A' };
    let altered = String::from_utf8(altered).unwrap();
    let (elsewhere, _) = super::vault_at_with_other_keys(store.clone());
    for forged in [
        altered.as_str(),
        "AAAA",
        "",
        &annas[..annas.len() - 3],
        &"x".repeat(5000),
    ] {
        assert_eq!(vault.unsubscribe(forged).await.unwrap(), LinkState::Invalid);
    }
    assert_eq!(
        elsewhere.unsubscribe(&annas).await.unwrap(),
        LinkState::Invalid
    );
    assert_eq!(
        emails(&vault, "direct_marketing").await,
        vec!["anna@example.se", "bo@example.se"]
    );

    // The one click: Anna objects, her address is suppressed, the link is spent; Bo stays.
    assert!(matches!(
        vault.unsubscribe(&annas).await.unwrap(),
        LinkState::Valid(_)
    ));
    assert_eq!(
        emails(&vault, "direct_marketing").await,
        vec!["bo@example.se"]
    );
    assert!(
        vault
            .is_suppressed(
                &actor,
                LookupKind::Email,
                &PersonalValue::new("ANNA@example.se")
            )
            .await
            .unwrap()
    );
    match vault.unsubscribe(&annas).await.unwrap() {
        LinkState::Spent { reason, .. } => assert_eq!(reason, "used"),
        other => panic!("{other:?}"),
    }
    let objections = store
        .audit_entries(0, u64::MAX, 10_000)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.draft.action == AuditAction::Objection && e.draft.subject == Some(anna.0))
        .count();
    assert_eq!(objections, 1, "a second click records nothing");

    // A revoked link unsubscribes no one.
    let revoked = link(bo, None).await;
    assert!(matches!(
        vault
            .revoke_unsubscribe_token(&marketer(), &revoked)
            .await
            .unwrap(),
        LinkState::Valid(_)
    ));
    match vault.unsubscribe(&revoked).await.unwrap() {
        LinkState::Spent { reason, .. } => assert_eq!(reason, "revoked"),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        emails(&vault, "direct_marketing").await,
        vec!["bo@example.se"]
    );

    // The headers of RFC 8058, with the policy's opt-out address.
    let headers = vault.list_unsubscribe(&bos, "https://shop.example/");
    assert_eq!(headers.url, format!("https://shop.example/u/{bos}"));
    assert_eq!(
        headers.list_unsubscribe,
        format!(
            "<https://shop.example/u/{bos}>, <mailto:webbshop@smart-telematik.se?subject=unsubscribe>"
        )
    );
    assert_eq!(headers.list_unsubscribe_post, "List-Unsubscribe=One-Click");

    // Links only for who may act for the purpose, a marketing purpose by its channel, and a
    // campaign name that is a name.
    let support = Actor::staff("token:s1", "support");
    let err = vault
        .unsubscribe_token(
            &support,
            bo,
            "direct_marketing",
            MarketingChannel::Email,
            None,
        )
        .await
        .unwrap_err();
    assert!(matches!(err, VaultError::Forbidden(_)), "{err:?}");
    let err = vault
        .unsubscribe_token(
            &marketer(),
            bo,
            "direct_marketing",
            MarketingChannel::Email,
            Some("spring 2026!"),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            VaultError::Invalid {
                code: "invalid_campaign",
                ..
            }
        ),
        "{err:?}"
    );
    audit_log::verify(store.as_ref(), |_| {}).await.unwrap();
}

pub async fn an_opt_out_by_letter_suppresses_the_address_whether_or_not_it_is_known(
    store: Arc<dyn Store>,
) {
    let (vault, _) = vault_over(store.clone());
    let actor = operator();
    let anna = vault
        .create_subject(
            &actor,
            person(
                "anna@example.se",
                "+46701111111",
                &["purchase", "direct_marketing", "newsletter"],
            ),
        )
        .await
        .unwrap();
    let handler = Actor::staff("user:dpo", "legal");
    let done = vault
        .record_opt_out(
            &handler,
            LookupKind::Email,
            &PersonalValue::new(" Anna@Example.se "),
            None,
        )
        .await
        .unwrap();
    assert_eq!(done.subjects, vec![anna]);
    assert!(emails(&vault, "direct_marketing").await.is_empty());
    assert!(emails(&vault, "newsletter").await.is_empty());

    // Someone the shop does not hold: the address alone goes on the list, and a later import
    // with it starts suppressed.
    let unknown = vault
        .record_opt_out(
            &handler,
            LookupKind::Email,
            &PersonalValue::new("ny@example.se"),
            Some("direct_marketing"),
        )
        .await
        .unwrap();
    assert!(unknown.subjects.is_empty() && unknown.suppressed);
    vault
        .create_subject(&actor, person("NY@example.se", "+46707777777", CUSTOMER))
        .await
        .unwrap();
    assert!(emails(&vault, "direct_marketing").await.is_empty());

    // Only who handles requests records one, and only for marketing.
    let err = vault
        .record_opt_out(
            &marketer(),
            LookupKind::Email,
            &PersonalValue::new("x@example.se"),
            None,
        )
        .await
        .unwrap_err();
    assert!(matches!(err, VaultError::Forbidden(_)), "{err:?}");
    let err = vault
        .record_opt_out(
            &handler,
            LookupKind::Email,
            &PersonalValue::new("x@example.se"),
            Some("purchase"),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            VaultError::Invalid {
                code: "not_marketing",
                ..
            }
        ),
        "{err:?}"
    );
    audit_log::verify(store.as_ref(), |_| {}).await.unwrap();
}
