//! The retention engine: on a given day, which purposes still hold each of a subject's values,
//! and so what becomes of the value (kept, archived for a legal obligation, erased) and of the
//! subject. Pure: the vault hands it the facts and carries out the plan, and a dry run prints
//! the very plan a real sweep then carries out.

use std::collections::{BTreeMap, BTreeSet};

use time::Date;

use super::arithmetic::keep_until;
use crate::policy::{LegalBasis, Policy, Retention};

/// What the engine knows of one value: never its content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValueFacts<'a> {
    pub category: &'a str,
    /// The purposes it was collected for.
    pub purposes: &'a [String],
    pub collected_on: Date,
}

/// What the engine knows of one subject.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SubjectFacts<'a> {
    /// The last day of each kind of activity the subject has.
    pub last_activity: BTreeMap<&'a str, Date>,
    /// Purposes the subject objected to (Art. 21): they hold nothing of this subject.
    pub objections: BTreeSet<&'a str>,
    /// What stops erasure, if anything.
    pub holds: Vec<Hold>,
}

impl SubjectFacts<'_> {
    fn last_of_any(&self) -> Option<Date> {
        self.last_activity.values().copied().max()
    }

    /// The first hold in force on `today`.
    fn hold_on(&self, today: Date) -> Option<Hold> {
        self.holds.iter().copied().find(|hold| match hold {
            Hold::Legal { until } => *until >= today,
            Hold::Restricted => true,
        })
    }
}

/// What keeps a subject's values from being erased although no purpose needs them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hold {
    /// A legal hold staff set for a dispute, through this day.
    Legal { until: Date },
    /// Processing is restricted (Art. 18): the subject may need the data for a legal claim
    /// (Art. 18(1)(c)), so it is stored, not erased.
    Restricted,
}

/// Until when one purpose keeps one value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PurposeEnd {
    /// Kept through this day.
    Until(Date),
    /// No end date yet: until consent is withdrawn, or the rule names no period.
    Open,
    /// The purpose does not hold the value: it is not in the policy, the category is not one
    /// of its categories, or the subject objected to it.
    NotHeld,
}

/// The end of `purpose_id`'s hold on `value`, counted from the start its rule names: the last
/// activity of the listed kinds (never before collection), collection, or for legal
/// obligations the last transaction of any kind.
pub fn purpose_end(
    policy: &Policy,
    purpose_id: &str,
    value: &ValueFacts<'_>,
    subject: &SubjectFacts<'_>,
) -> PurposeEnd {
    let Some(purpose) = policy.purposes.get(purpose_id) else {
        return PurposeEnd::NotHeld;
    };
    if !purpose.categories.iter().any(|c| c == value.category)
        || subject.objections.contains(purpose_id)
    {
        return PurposeEnd::NotHeld;
    }
    let Some(rule) = &purpose.retention else {
        return PurposeEnd::Open;
    };
    let collected = value.collected_on;
    let start = match rule {
        Retention::AfterLastActivity { activities, .. } => activities
            .iter()
            .filter_map(|kind| subject.last_activity.get(kind.as_str()))
            .copied()
            .fold(collected, Date::max),
        Retention::FixedPeriod { .. } => collected,
        Retention::Bokforingslagen | Retention::AsRequiredBy { .. } => subject
            .last_of_any()
            .map_or(collected, |last| last.max(collected)),
        Retention::UntilConsentWithdrawn => return PurposeEnd::Open,
    };
    match keep_until(rule, start, policy.controller.financial_year()) {
        Some(day) => PurposeEnd::Until(day),
        None => PurposeEnd::Open,
    }
}

/// What becomes of a value on a day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fate {
    /// A purpose that is not a legal obligation still holds it, through `until` (`None`: no
    /// end date yet).
    Keep { until: Option<Date> },
    /// Only legal obligations hold it: archived under each, to be shredded after its day.
    Archive { holds: Vec<(String, Date)> },
    /// No purpose holds it any more.
    Erase,
}

/// A value's fate, with the purposes that let go of it (for the sweep's counts).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValuePlan {
    pub fate: Fate,
    /// The value's purposes that no longer hold it on the day.
    pub released: Vec<String>,
}

/// The fate of `value` on `today`.
pub fn fate(
    policy: &Policy,
    value: &ValueFacts<'_>,
    subject: &SubjectFacts<'_>,
    today: Date,
) -> ValuePlan {
    // `Some(None)`: kept live with no end date; `Some(Some(day))`: kept live through `day`.
    let mut live: Option<Option<Date>> = None;
    let mut legal = Vec::new();
    let mut released = Vec::new();
    for purpose_id in value.purposes {
        let is_legal_obligation = policy
            .purposes
            .get(purpose_id)
            .is_some_and(|p| p.legal_basis == Some(LegalBasis::LegalObligation));
        match purpose_end(policy, purpose_id, value, subject) {
            PurposeEnd::NotHeld => released.push(purpose_id.clone()),
            PurposeEnd::Until(day) if day < today => released.push(purpose_id.clone()),
            PurposeEnd::Until(day) if is_legal_obligation => legal.push((purpose_id.clone(), day)),
            PurposeEnd::Until(day) => {
                live = Some(match live {
                    Some(None) => None,
                    Some(Some(other)) => Some(other.max(day)),
                    None => Some(day),
                });
            }
            // A legal obligation without a day cannot be archived (the archive must know when
            // to shred), so such a value stays live, like one kept by consent.
            PurposeEnd::Open => live = Some(None),
        }
    }
    let fate = match live {
        Some(until) => Fate::Keep { until },
        None if !legal.is_empty() => Fate::Archive { holds: legal },
        None => Fate::Erase,
    };
    ValuePlan { fate, released }
}

/// What becomes of a subject on a day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubjectPlan {
    /// Every value stays.
    Keep,
    /// Some values go (erased or archived); the subject stays for the values still kept.
    RemoveValues,
    /// No value is kept any more: the subject is erased, what legal obligations hold archived.
    Erase,
    /// Values would go, but a hold keeps everything.
    Held(Hold),
}

/// The plan for one subject and each of its values, in the order given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubjectSchedule {
    pub plan: SubjectPlan,
    pub values: Vec<ValuePlan>,
}

/// The plan for a subject with `values` on `today`.
pub fn plan_subject(
    policy: &Policy,
    values: &[ValueFacts<'_>],
    subject: &SubjectFacts<'_>,
    today: Date,
) -> SubjectSchedule {
    let plans: Vec<ValuePlan> = values
        .iter()
        .map(|value| fate(policy, value, subject, today))
        .collect();
    let kept = plans
        .iter()
        .filter(|p| matches!(p.fate, Fate::Keep { .. }))
        .count();
    let plan = if kept == plans.len() && !plans.is_empty() {
        SubjectPlan::Keep
    } else if let Some(hold) = subject.hold_on(today) {
        SubjectPlan::Held(hold)
    } else if kept == 0 {
        SubjectPlan::Erase
    } else {
        SubjectPlan::RemoveValues
    };
    SubjectSchedule {
        plan,
        values: plans,
    }
}

#[cfg(test)]
mod tests;
