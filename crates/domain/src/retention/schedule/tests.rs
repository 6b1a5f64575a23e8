use proptest::prelude::*;
use time::Date;
use time::macros::date;

use super::*;
use crate::policy::Policy;

fn seed() -> Policy {
    let text = include_str!("../../../../../examples/seed-shop/policy.toml");
    crate::policy::parse("policy.toml", text)
        .expect("the seed policy parses")
        .policy
}

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

fn active<'a>(kind: &'a str, on: Date) -> SubjectFacts<'a> {
    SubjectFacts {
        last_activity: BTreeMap::from([(kind, on)]),
        ..SubjectFacts::default()
    }
}

#[test]
fn a_customer_last_active_in_march_2022_goes_36_months_later_but_the_invoice_stays() {
    let policy = seed();
    let email_purposes = names(&["purchase", "customer_care", "direct_marketing"]);
    let invoice_purposes = names(&["purchase", "bookkeeping"]);
    let email = ValueFacts {
        category: "email",
        purposes: &email_purposes,
        collected_on: date!(2022 - 03 - 15),
    };
    let invoice = ValueFacts {
        category: "order_history",
        purposes: &invoice_purposes,
        collected_on: date!(2022 - 03 - 15),
    };
    let subject = active("purchase", date!(2022 - 03 - 15));
    let values = [email.clone(), invoice.clone()];

    let on_the_day = plan_subject(&policy, &values, &subject, date!(2025 - 03 - 15));
    assert_eq!(on_the_day.plan, SubjectPlan::Keep);
    assert_eq!(
        on_the_day.values[0].fate,
        Fate::Keep {
            until: Some(date!(2025 - 03 - 15))
        }
    );

    let day_after = plan_subject(&policy, &values, &subject, date!(2025 - 03 - 16));
    assert_eq!(day_after.plan, SubjectPlan::Erase);
    assert_eq!(day_after.values[0].fate, Fate::Erase);
    assert_eq!(day_after.values[0].released, email_purposes);
    assert_eq!(
        day_after.values[1].fate,
        Fate::Archive {
            holds: vec![("bookkeeping".into(), date!(2029 - 12 - 31))]
        }
    );
    assert_eq!(day_after.values[1].released, names(&["purchase"]));

    // On the shred day the law holds nothing either.
    let later = fate(&policy, &invoice, &subject, date!(2030 - 01 - 01));
    assert_eq!(later.fate, Fate::Erase);
}

#[test]
fn a_purchase_moves_the_36_months() {
    let policy = seed();
    let purposes = names(&["purchase"]);
    let email = ValueFacts {
        category: "email",
        purposes: &purposes,
        collected_on: date!(2022 - 03 - 15),
    };
    let mut subject = active("purchase", date!(2022 - 03 - 15));
    subject
        .last_activity
        .insert("purchase", date!(2024 - 06 - 01));
    assert_eq!(
        fate(&policy, &email, &subject, date!(2025 - 03 - 16)).fate,
        Fate::Keep {
            until: Some(date!(2027 - 06 - 01))
        }
    );
    // A login is not one of the purpose's activities.
    let logged_in = active("login", date!(2024 - 06 - 01));
    assert_eq!(
        fate(&policy, &email, &logged_in, date!(2022 - 03 - 20)).fate,
        Fate::Keep {
            until: Some(date!(2025 - 03 - 15))
        }
    );
}

#[test]
fn values_go_one_by_one_while_another_purpose_keeps_the_subject() {
    let policy = seed();
    let newsletter = names(&["newsletter"]);
    let usage = names(&["product_improvement"]);
    let values = [
        ValueFacts {
            category: "email",
            purposes: &newsletter,
            collected_on: date!(2020 - 01 - 10),
        },
        ValueFacts {
            category: "website_usage",
            purposes: &usage,
            collected_on: date!(2020 - 01 - 10),
        },
    ];
    let schedule = plan_subject(
        &policy,
        &values,
        &SubjectFacts::default(),
        date!(2021 - 02 - 11),
    );
    assert_eq!(schedule.plan, SubjectPlan::RemoveValues);
    assert_eq!(schedule.values[0].fate, Fate::Keep { until: None });
    assert_eq!(schedule.values[1].fate, Fate::Erase);
}

#[test]
fn an_objection_releases_the_purpose_and_a_category_outside_it_was_never_held() {
    let policy = seed();
    let purposes = names(&["direct_marketing", "bookkeeping"]);
    let email = ValueFacts {
        category: "email",
        purposes: &purposes,
        collected_on: date!(2026 - 01 - 10),
    };
    let mut subject = SubjectFacts::default();
    subject.objections.insert("direct_marketing");
    // Bookkeeping does not list e-mail, and the objection ends direct marketing at once.
    let plan = fate(&policy, &email, &subject, date!(2026 - 01 - 11));
    assert_eq!(plan.fate, Fate::Erase);
    assert_eq!(plan.released, purposes);
}

#[test]
fn a_hold_keeps_what_would_go_and_only_while_it_lasts() {
    let policy = seed();
    let purposes = names(&["fraud_prevention"]);
    let values = [ValueFacts {
        category: "ip_address",
        purposes: &purposes,
        collected_on: date!(2020 - 01 - 10),
    }];
    let held = SubjectFacts {
        holds: vec![Hold::Legal {
            until: date!(2026 - 06 - 30),
        }],
        ..SubjectFacts::default()
    };
    assert_eq!(
        plan_subject(&policy, &values, &held, date!(2026 - 06 - 30)).plan,
        SubjectPlan::Held(Hold::Legal {
            until: date!(2026 - 06 - 30)
        })
    );
    assert_eq!(
        plan_subject(&policy, &values, &held, date!(2026 - 07 - 01)).plan,
        SubjectPlan::Erase
    );
    let restricted = SubjectFacts {
        holds: vec![Hold::Restricted],
        ..SubjectFacts::default()
    };
    assert_eq!(
        plan_subject(&policy, &values, &restricted, date!(2030 - 01 - 01)).plan,
        SubjectPlan::Held(Hold::Restricted)
    );
}

#[test]
fn a_broken_financial_year_archives_to_the_later_date() {
    let mut policy = seed();
    policy.controller.financial_year_start_month = Some(7);
    let purposes = names(&["bookkeeping"]);
    let invoice = ValueFacts {
        category: "payment_details",
        purposes: &purposes,
        collected_on: date!(2022 - 08 - 01),
    };
    assert_eq!(
        fate(
            &policy,
            &invoice,
            &SubjectFacts::default(),
            date!(2026 - 01 - 01)
        )
        .fate,
        Fate::Archive {
            holds: vec![("bookkeeping".into(), date!(2030 - 12 - 31))]
        }
    );
}

const PURPOSES: [&str; 9] = [
    "purchase",
    "customer_care",
    "direct_marketing",
    "customer_relationship",
    "newsletter",
    "product_improvement",
    "fraud_prevention",
    "bookkeeping",
    "authority_requests",
];
const CATEGORIES: [&str; 6] = [
    "name",
    "email",
    "identity_number",
    "order_history",
    "ip_address",
    "website_usage",
];
const KINDS: [&str; 3] = ["purchase", "support_contact", "login"];

fn day(offset: u16) -> Date {
    date!(2020 - 01 - 01) + time::Duration::days(i64::from(offset))
}

prop_compose! {
    fn a_value()(
        category in 0..CATEGORIES.len(),
        purposes in proptest::sample::subsequence(PURPOSES.to_vec(), 0..5),
        collected in 0u16..2000,
    ) -> (&'static str, Vec<String>, Date) {
        (CATEGORIES[category], names(&purposes), day(collected))
    }
}

prop_compose! {
    fn some_activity()(
        activity in proptest::collection::btree_map(0..KINDS.len(), 0u16..3000, 0..3),
    ) -> BTreeMap<&'static str, Date> {
        activity.into_iter().map(|(k, d)| (KINDS[k], day(d))).collect()
    }
}

proptest! {
    /// Nothing goes while a purpose still holds it; what goes on a day stays gone on every
    /// later day; an archive entry always has a shred day still to come; a subject is erased
    /// exactly when nothing of it is kept live.
    #[test]
    fn the_schedule_never_erases_early_and_never_brings_back(
        values in proptest::collection::vec(a_value(), 0..6),
        activity in some_activity(),
        today in 0u16..6000,
        later in 0u16..2000,
    ) {
        let policy = seed();
        let facts: Vec<ValueFacts<'_>> = values
            .iter()
            .map(|(category, purposes, collected)| ValueFacts {
                category,
                purposes,
                collected_on: *collected,
            })
            .collect();
        let subject = SubjectFacts { last_activity: activity, ..SubjectFacts::default() };
        let today = day(today);
        let schedule = plan_subject(&policy, &facts, &subject, today);
        for (value, plan) in facts.iter().zip(&schedule.values) {
            let ends: Vec<PurposeEnd> = value
                .purposes
                .iter()
                .map(|p| purpose_end(&policy, p, value, &subject))
                .collect();
            let still_held = ends
                .iter()
                .any(|end| matches!(end, PurposeEnd::Open) || matches!(end, PurposeEnd::Until(d) if *d >= today));
            prop_assert_eq!(plan.fate != Fate::Erase, still_held);
            if let Fate::Archive { holds } = &plan.fate {
                prop_assert!(holds.iter().all(|(_, until)| *until >= today));
            }
            let then = fate(&policy, value, &subject, today + time::Duration::days(i64::from(later)));
            if plan.fate == Fate::Erase {
                prop_assert_eq!(then.fate, Fate::Erase);
            }
        }
        let kept = schedule.values.iter().any(|p| matches!(p.fate, Fate::Keep { .. }));
        match schedule.plan {
            SubjectPlan::Erase => prop_assert!(!kept),
            SubjectPlan::RemoveValues => prop_assert!(kept),
            SubjectPlan::Keep => {
                let all_kept = schedule.values.iter().all(|p| matches!(p.fate, Fate::Keep { .. }));
                prop_assert!(all_kept);
            }
            SubjectPlan::Held(_) => prop_assert!(false, "no hold was given"),
        }
    }
}
