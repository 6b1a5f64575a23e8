use proptest::prelude::*;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

use super::*;

fn email() -> Identifier {
    Identifier {
        kind: IdentifierKind::Email,
        reference: "bi_email".into(),
    }
}

fn phone() -> Identifier {
    Identifier {
        kind: IdentifierKind::Phone,
        reference: "bi_phone".into(),
    }
}

fn request(received_at: OffsetDateTime) -> Request {
    Request::receive(
        uuid::Uuid::from_u128(7),
        RequestKind::Erasure,
        Channel::Post,
        received_at,
        vec![email(), phone()],
    )
    .unwrap()
}

fn proof(at: OffsetDateTime, covers: Vec<Identifier>) -> Verification {
    Verification {
        method: VerificationMethod::IdDocumentChecked,
        by: "user:anna".into(),
        at,
        covers,
    }
}

fn delivery(at: OffsetDateTime) -> Delivery {
    Delivery {
        method: DeliveryMethod::Post,
        address: Some("folkbokföringsadressen".into()),
        at,
    }
}

#[test]
fn a_request_runs_from_receipt_to_completion_against_the_proven_identifiers_only() {
    let received = datetime!(2026-01-31 09:00 UTC);
    let mut req = request(received);
    assert_eq!(req.state, State::Received);
    assert_eq!(req.due(), time::macros::date!(2026 - 03 - 02));
    assert!(req.targets().is_empty());
    assert_eq!(
        req.complete(delivery(received)),
        Err(RequestError::NotVerified)
    );
    assert_eq!(req.start(received), Err(RequestError::NotVerified));

    // Only the e-mail was proven: the phone's subject is out of reach.
    req.verify(proof(received + Duration::hours(1), vec![email()]))
        .unwrap();
    assert_eq!(req.state, State::IdentityVerified);
    assert_eq!(req.targets(), vec![&email()]);
    req.start(received + Duration::hours(2)).unwrap();
    assert_eq!(req.state, State::InProgress);
    req.complete(delivery(received + Duration::days(3)))
        .unwrap();
    assert_eq!(req.state, State::Completed);
    assert_eq!(req.closed_at, Some(received + Duration::days(3)));
    // Closed for good.
    for error in [
        req.withdraw(received + Duration::days(4)).unwrap_err(),
        req.refuse("too late", received + Duration::days(4))
            .unwrap_err(),
        req.verify(proof(received, vec![phone()])).unwrap_err(),
    ] {
        assert!(
            matches!(
                error,
                RequestError::NotAllowed {
                    state: "completed",
                    ..
                }
            ),
            "{error}"
        );
    }
}

#[test]
fn a_proof_covers_only_what_the_request_names() {
    let received = datetime!(2026-03-10 09:00 UTC);
    let mut req = request(received);
    let stranger = Identifier {
        kind: IdentifierKind::IdentityNumber,
        reference: "bi_other".into(),
    };
    assert_eq!(
        req.verify(proof(received, vec![stranger])),
        Err(RequestError::NotNamed)
    );
    assert_eq!(
        req.verify(proof(received, vec![])),
        Err(RequestError::CoversNothing)
    );
    assert!(matches!(
        req.verify(proof(received - Duration::hours(1), vec![email()])),
        Err(RequestError::BeforeReceipt { .. })
    ));
    req.verify(proof(received, vec![email()])).unwrap();
    req.verify(proof(received, vec![phone()])).unwrap();
    assert_eq!(req.targets().len(), 2, "a second proof adds to the first");
    assert_eq!(
        Request::receive(
            uuid::Uuid::nil(),
            RequestKind::Access,
            Channel::Portal,
            received,
            vec![]
        ),
        Err(RequestError::NoIdentifiers)
    );
}

#[test]
fn an_extension_is_possible_only_while_the_first_month_runs() {
    // Received 10 March 2026: the first month ends on Friday 10 April.
    let received = datetime!(2026-03-10 09:00 UTC);
    let on = |day: u8| {
        OffsetDateTime::new_utc(
            time::Date::from_calendar_date(2026, time::Month::April, day).unwrap(),
            time::Time::from_hms(12, 0, 0).unwrap(),
        )
    };
    let mut late = request(received);
    assert_eq!(
        late.extend(2, "many records to collect", DeliveryMethod::Email, on(11)),
        Err(RequestError::ExtensionTooLate {
            due: time::macros::date!(2026 - 04 - 10)
        })
    );
    let mut req = request(received);
    assert_eq!(
        req.extend(2, "  ", DeliveryMethod::Email, on(9)),
        Err(RequestError::ReasonRequired)
    );
    assert_eq!(
        req.extend(3, "x", DeliveryMethod::Email, on(9)),
        Err(RequestError::ExtensionMonths)
    );
    req.extend(2, "many records to collect", DeliveryMethod::Email, on(9))
        .unwrap();
    assert_eq!(req.due(), time::macros::date!(2026 - 06 - 10));
    assert_eq!(
        req.extend(1, "again", DeliveryMethod::Email, on(9)),
        Err(RequestError::AlreadyExtended)
    );
    // A refusal is still due within the first month: given later, it says it was late.
    req.refuse("manifestly unfounded", on(20)).unwrap();
    assert_eq!(req.state, State::Refused);
    assert!(!req.refusal.as_ref().unwrap().on_time);
    assert!(
        !req.is_overdue(time::macros::date!(2026 - 12 - 01)),
        "closed"
    );
    late.refuse("identity could not be proven", on(10)).unwrap();
    assert!(late.refusal.as_ref().unwrap().on_time);
    assert_eq!(
        late.refuse("x", on(10)).unwrap_err().to_string(),
        "the request is refused; it cannot be refused"
    );
}

#[test]
fn a_request_survives_json() {
    let received = datetime!(2026-03-10 09:00 UTC);
    let mut req = request(received);
    req.kind = RequestKind::Objection {
        to: ObjectionTarget::Marketing(MarketingChannel::Email),
    };
    req.verify(proof(received, vec![email()])).unwrap();
    let text = serde_json::to_string(&req).unwrap();
    let back: Request = serde_json::from_str(&text).unwrap();
    assert_eq!(back, req);
}

/// One thing that may be done to a request.
#[derive(Debug, Clone)]
enum Op {
    Verify(bool, bool),
    Start,
    Extend(u32),
    Complete,
    Refuse(bool),
    Withdraw,
}

fn op() -> impl Strategy<Value = (Op, i64)> {
    let op = prop_oneof![
        (any::<bool>(), any::<bool>()).prop_map(|(e, p)| Op::Verify(e, p)),
        Just(Op::Start),
        (0u32..=3).prop_map(Op::Extend),
        Just(Op::Complete),
        any::<bool>().prop_map(Op::Refuse),
        Just(Op::Withdraw),
    ];
    (op, 0i64..(24 * 120))
}

proptest! {
    #[test]
    fn no_sequence_of_operations_breaks_the_rules(ops in proptest::collection::vec(op(), 0..12)) {
        let received = datetime!(2026-01-31 09:00 UTC);
        let mut req = request(received);
        let first_due = req.first_due();
        let mut now = received;
        for (op, hours) in ops {
            now += Duration::hours(hours);
            let before = req.clone();
            let result = match op {
                Op::Verify(e, p) => {
                    let covers = [(e, email()), (p, phone())]
                        .into_iter()
                        .filter_map(|(take, id)| take.then_some(id))
                        .collect();
                    req.verify(proof(now, covers))
                }
                Op::Start => req.start(now),
                Op::Extend(months) => req.extend(months, "reason", DeliveryMethod::Email, now),
                Op::Complete => req.complete(delivery(now)),
                Op::Refuse(with_reason) => req.refuse(if with_reason { "why" } else { "" }, now),
                Op::Withdraw => req.withdraw(now),
            };
            if result.is_err() {
                prop_assert_eq!(&req, &before, "a refused operation changes nothing");
            }
            if before.state.is_closed() {
                prop_assert_eq!(&req, &before, "a closed request stays as it was");
            }
            if req.state == State::Completed {
                prop_assert!(!req.targets().is_empty());
            }
            if let Some(ext) = &req.extension {
                prop_assert!(stockholm_date(ext.at) <= first_due);
                prop_assert!((1..=2).contains(&ext.months));
            }
            if let Some(refusal) = &req.refusal {
                prop_assert!(!refusal.reason.is_empty());
                prop_assert_eq!(refusal.on_time, stockholm_date(refusal.at) <= first_due);
            }
            prop_assert!(req.due() >= first_due);
            prop_assert_eq!(req.closed_at.is_some(), req.state.is_closed());
        }
    }
}
