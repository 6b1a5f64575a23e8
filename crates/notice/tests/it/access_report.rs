//! The Art. 15 access report: every item the article names, in Swedish and English, escaped,
//! printable.

use integritet_domain::personal::PersonalValue;
use integritet_domain::policy::Lang;
use integritet_domain::report::{AccessReport, ReportedDisclosure, ReportedPurpose, ReportedValue};
use integritet_domain::subject::{Provenance, SubjectId};
use integritet_notice::{Format, render_access_report};
use time::macros::{date, datetime};

use crate::seed;

fn report() -> AccessReport {
    let at = datetime!(2026-03-01 10:00 UTC);
    let value = |category: &str, value: &str, provenance, purposes: &[&str]| ReportedValue {
        category: category.into(),
        value: PersonalValue::new(value),
        provenance,
        collected_at: at,
        purposes: purposes.iter().map(|p| (*p).to_owned()).collect(),
    };
    AccessReport {
        subject: SubjectId::from_parts(1_000, [7; 10]),
        generated_at: datetime!(2026-03-10 09:00 UTC),
        policy_version: "pv1-test".into(),
        values: vec![
            value(
                "name",
                "Astrid <b>Lindqvist</b>",
                Provenance::Provided,
                &["purchase", "bookkeeping"],
            ),
            value(
                "email",
                "astrid@example.se",
                Provenance::Provided,
                &["purchase", "newsletter"],
            ),
            value(
                "ip_address",
                "192.0.2.7",
                Provenance::Observed,
                &["fraud_prevention"],
            ),
        ],
        purposes: vec![
            ReportedPurpose {
                purpose: "purchase".into(),
                categories: vec!["email".into(), "name".into()],
                kept_until: Some(date!(2029 - 03 - 01)),
            },
            ReportedPurpose {
                purpose: "newsletter".into(),
                categories: vec!["email".into()],
                kept_until: None,
            },
            ReportedPurpose {
                purpose: "bookkeeping".into(),
                categories: vec!["name".into()],
                kept_until: Some(date!(2033 - 12 - 31)),
            },
        ],
        disclosures: vec![ReportedDisclosure {
            at: datetime!(2026-03-05 12:00 UTC),
            recipient: "credit_agencies".into(),
            purpose: Some("purchase".into()),
            categories: vec!["name".into(), "identity_number".into()],
        }],
        restricted: false,
        objections: vec!["direct_marketing".into()],
    }
}

#[test]
fn the_swedish_report_holds_every_article_15_item_and_prints_on_a4() {
    let policy = seed();
    let html = render_access_report(
        &policy.policy,
        &policy.version,
        &report(),
        Lang::Sv,
        Format::Html,
    );
    for expected in [
        "<html lang=\"sv\">",
        "Registerutdrag från",
        // (1)(b) and 15(3): the data, with its source (1)(g).
        "astrid@example.se",
        "Lämnad av dig",
        "Registrerad när du använde våra tjänster",
        // (1)(a): purposes, and the legal basis.
        "Fullgörande av avtal",
        "Rättslig förpliktelse",
        "Bokföringslagen",
        // (1)(d): until when, as dates.
        "2029-03-01",
        "2033-12-31",
        "tills du återkallar ditt samtycke",
        // (1)(c): recipients, and every logged disclosure.
        "Kreditupplysningsföretag",
        "2026-03-05",
        // Objections, rights and the complaint to IMY with its contact details.
        "Direktmarknadsföring",
        "Rätt till rättelse",
        "Integritetsskyddsmyndigheten",
        "imy@imy.se",
        "size: A4",
    ] {
        assert!(html.contains(expected), "missing {expected:?}");
    }
    assert!(!html.contains("<b>Lindqvist"), "values are escaped");
    assert!(html.contains("&lt;b&gt;Lindqvist"));
}

#[test]
fn the_english_report_says_the_same_in_english() {
    let policy = seed();
    let md = render_access_report(
        &policy.policy,
        &policy.version,
        &report(),
        Lang::En,
        Format::Markdown,
    );
    for expected in [
        "Your personal data held by",
        "Provided by you",
        "Recorded when you used our services",
        "until you withdraw your consent",
        "2029-03-01",
        "Credit-reporting agencies",
        "You have objected to processing",
    ] {
        assert!(md.contains(expected), "missing {expected:?}");
    }
}
