use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;
use time::Date;
use time::macros::date;

use super::*;
use crate::policy::{LegalBasis, Policy};

fn seed() -> Policy {
    let text = include_str!("../../../../examples/seed-shop/policy.toml");
    crate::policy::parse("policy.toml", text)
        .expect("the seed policy parses")
        .policy
}

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

fn customer(last_purchase: Date) -> SubjectFacts<'static> {
    SubjectFacts {
        last_activity: BTreeMap::from([("purchase", last_purchase)]),
        ..SubjectFacts::default()
    }
}

fn contact<'a>(
    category: &'a str,
    purposes: &'a [String],
    subject: &'a SubjectFacts<'a>,
) -> ContactFacts<'a> {
    ContactFacts {
        value: ValueFacts {
            category,
            purposes,
            collected_on: date!(2025 - 01 - 10),
        },
        subject,
        restricted: false,
        suppressed: false,
        nix_listed: false,
    }
}

const TODAY: Date = date!(2026 - 12 - 04);

#[test]
fn an_existing_customer_gets_the_shops_own_marketing_by_email_until_36_months_pass() {
    let policy = seed();
    let purposes = names(&["purchase", "direct_marketing"]);
    let subject = customer(date!(2025 - 01 - 10));
    let email = contact("email", &purposes, &subject);
    assert_eq!(
        may_contact(
            &policy,
            "direct_marketing",
            MarketingChannel::Email,
            &email,
            TODAY
        ),
        Ok(())
    );
    assert_eq!(
        may_contact(
            &policy,
            "direct_marketing",
            MarketingChannel::Email,
            &email,
            date!(2028 - 01 - 11)
        ),
        Err(Refusal::RetentionEnded)
    );
    // Not by a channel the purpose does not offer, and not with the wrong kind of contact.
    assert_eq!(
        may_contact(
            &policy,
            "direct_marketing",
            MarketingChannel::Sms,
            &email,
            TODAY
        ),
        Err(Refusal::NotThisChannel)
    );
    assert_eq!(
        may_contact(
            &policy,
            "direct_marketing",
            MarketingChannel::Phone,
            &email,
            TODAY
        ),
        Err(Refusal::WrongKind)
    );
    // A purpose that is not marketing reaches no one.
    assert_eq!(
        may_contact(&policy, "purchase", MarketingChannel::Email, &email, TODAY),
        Err(Refusal::NotThisChannel)
    );
}

#[test]
fn the_newsletter_needs_its_consent_and_stops_at_an_objection_or_suppression() {
    let policy = seed();
    assert_eq!(
        policy.purposes["newsletter"].legal_basis,
        Some(LegalBasis::Consent)
    );
    let subject = customer(date!(2025 - 01 - 10));
    let without = names(&["purchase"]);
    assert_eq!(
        may_contact(
            &policy,
            "newsletter",
            MarketingChannel::Email,
            &contact("email", &without, &subject),
            TODAY
        ),
        Err(Refusal::NotGranted)
    );
    let with = names(&["newsletter"]);
    let consented = contact("email", &with, &subject);
    assert_eq!(
        may_contact(
            &policy,
            "newsletter",
            MarketingChannel::Email,
            &consented,
            TODAY
        ),
        Ok(())
    );
    let objected = SubjectFacts {
        objections: BTreeSet::from(["newsletter"]),
        ..customer(date!(2025 - 01 - 10))
    };
    assert_eq!(
        may_contact(
            &policy,
            "newsletter",
            MarketingChannel::Email,
            &contact("email", &with, &objected),
            TODAY
        ),
        Err(Refusal::Objected)
    );
    let suppressed = ContactFacts {
        suppressed: true,
        ..consented.clone()
    };
    assert_eq!(
        may_contact(
            &policy,
            "newsletter",
            MarketingChannel::Email,
            &suppressed,
            TODAY
        ),
        Err(Refusal::Suppressed)
    );
    let restricted = ContactFacts {
        restricted: true,
        ..consented
    };
    assert_eq!(
        may_contact(
            &policy,
            "newsletter",
            MarketingChannel::Email,
            &restricted,
            TODAY
        ),
        Err(Refusal::Restricted)
    );
}

#[test]
fn a_number_in_nix_gets_no_sales_call() {
    let policy = seed();
    let purposes = names(&["direct_marketing"]);
    let subject = customer(date!(2025 - 01 - 10));
    let phone = contact("phone", &purposes, &subject);
    assert_eq!(
        may_contact(
            &policy,
            "direct_marketing",
            MarketingChannel::Phone,
            &phone,
            TODAY
        ),
        Ok(())
    );
    let listed = ContactFacts {
        nix_listed: true,
        ..phone
    };
    assert_eq!(
        may_contact(
            &policy,
            "direct_marketing",
            MarketingChannel::Phone,
            &listed,
            TODAY
        ),
        Err(Refusal::NixListed)
    );
}

fn channel() -> impl Strategy<Value = MarketingChannel> {
    prop_oneof![
        Just(MarketingChannel::Email),
        Just(MarketingChannel::Phone),
        Just(MarketingChannel::Sms),
        Just(MarketingChannel::Post),
    ]
}

proptest! {
    /// Whatever the facts, a contact that is objected, suppressed, restricted, unconsented,
    /// out of retention or NIX-listed (for calls) is never allowed.
    #[test]
    fn no_audience_holds_a_contact_it_must_not(
        purpose in prop_oneof![Just("direct_marketing"), Just("newsletter"), Just("purchase")],
        channel in channel(),
        category in prop_oneof![Just("email"), Just("phone"), Just("postal_address"), Just("name")],
        granted in any::<bool>(),
        objected in any::<bool>(),
        restricted in any::<bool>(),
        suppressed in any::<bool>(),
        nix_listed in any::<bool>(),
        months_after_2022 in 0u32..60,
    ) {
        let policy = seed();
        let purposes = if granted { names(&[purpose, "purchase"]) } else { names(&["purchase"]) };
        let last = crate::retention::add_months(date!(2022 - 01 - 04), months_after_2022);
        let mut subject = customer(last);
        if objected {
            subject.objections.insert(purpose);
        }
        let facts = ContactFacts {
            value: ValueFacts { category, purposes: &purposes, collected_on: last },
            subject: &subject,
            restricted,
            suppressed,
            nix_listed,
        };
        if may_contact(&policy, purpose, channel, &facts, TODAY).is_ok() {
            prop_assert!(granted && !objected && !restricted && !suppressed);
            prop_assert!(!(channel == MarketingChannel::Phone && nix_listed));
            prop_assert!(policy.purposes[purpose].marketing_channels.contains(&channel));
            let kind = policy.categories[category].kind;
            prop_assert_eq!(kind, channel_kind(channel));
            let held = crate::retention::purpose_end(&policy, purpose, &facts.value, &subject);
            prop_assert!(!matches!(held, PurposeEnd::Until(day) if day < TODAY));
        }
    }
}
