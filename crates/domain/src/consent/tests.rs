use std::collections::BTreeMap;

use super::*;
use crate::policy::Policy;

fn seed() -> Policy {
    let text = include_str!("../../../../examples/seed-shop/policy.toml");
    crate::policy::parse("policy.toml", text)
        .expect("the seed policy parses")
        .policy
}

fn input(choices: &[(&str, bool)]) -> DecisionInput {
    DecisionInput {
        visitor: "q3Zk1o9VbH2mX0cW7yTn4A".into(),
        banner_version: banner_version(&seed().cookies),
        text_hash: "ab".repeat(32),
        lang: Lang::Sv,
        choices: choices.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect(),
        gpc: false,
        page: "https://smart-telematik.se/produkter?kund=anna@example.se#top".into(),
        withdrawal: false,
    }
}

#[test]
fn reject_all_is_a_refusal_with_every_category_and_no_query_kept() {
    let policy = seed();
    let decision = check(&policy.cookies, input(&[])).unwrap();
    assert_eq!(decision.status, ConsentStatus::Refused);
    assert_eq!(
        decision.choices,
        BTreeMap::from([
            ("necessary".to_owned(), true),
            ("preferences".to_owned(), false),
            ("statistics".to_owned(), false),
        ])
    );
    assert_eq!(decision.page, "https://smart-telematik.se/produkter");
    let given = check(&policy.cookies, input(&[("statistics", true)])).unwrap();
    assert_eq!(given.status, ConsentStatus::Given);
    assert_eq!(given.status.dpv(), "dpv:ConsentGiven");
}

#[test]
fn a_decision_that_is_no_proof_is_refused_with_its_field() {
    let policy = seed();
    let field = |input: DecisionInput| check(&policy.cookies, input).unwrap_err().field;
    assert_eq!(field(input(&[("necessary", false)])), "choices.necessary");
    assert_eq!(field(input(&[("marketing", true)])), "choices.marketing");
    assert_eq!(
        field(DecisionInput {
            visitor: "short".into(),
            ..input(&[])
        }),
        "visitor"
    );
    assert_eq!(
        field(DecisionInput {
            text_hash: "XYZ".into(),
            ..input(&[])
        }),
        "text_hash"
    );
    assert_eq!(
        field(DecisionInput {
            page: "javascript:alert(1)".into(),
            ..input(&[])
        }),
        "page"
    );
    assert_eq!(
        field(DecisionInput {
            withdrawal: true,
            ..input(&[("statistics", true)])
        }),
        "withdrawal"
    );
}

#[test]
fn accepting_a_marketing_category_against_gpc_is_noted() {
    let mut policy = seed();
    let decision = check(
        &policy.cookies,
        DecisionInput {
            gpc: true,
            ..input(&[("statistics", true)])
        },
    )
    .unwrap();
    assert!(
        !decision.gpc_conflict,
        "statistics neither markets nor shares"
    );
    if let Some(category) = policy.cookies.categories.get_mut("statistics") {
        category.markets_or_shares = true;
    }
    let decision = check(
        &policy.cookies,
        DecisionInput {
            gpc: true,
            ..input(&[("statistics", true)])
        },
    )
    .unwrap();
    assert!(decision.gpc_conflict);
}

#[test]
fn the_banner_version_follows_the_cookie_section() {
    let mut policy = seed();
    let before = banner_version(&policy.cookies);
    assert_eq!(before.len(), 16);
    assert_eq!(before, banner_version(&seed().cookies));
    policy.cookies.consent_valid_months = Some(6);
    assert_ne!(before, banner_version(&policy.cookies));
}
