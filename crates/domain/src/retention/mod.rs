//! Retention: until which day each purpose may keep a value ([`arithmetic`]), and what becomes
//! of each value and subject on a given day ([`schedule`]).

mod arithmetic;
mod schedule;

pub use arithmetic::{FinancialYear, add_months, bokforingslagen_until, keep_until};
pub use schedule::{
    Fate, Hold, PurposeEnd, SubjectFacts, SubjectPlan, SubjectSchedule, ValueFacts, ValuePlan,
    fate, plan_subject, purpose_end,
};
