//! The pure domain of Integritet: Swedish identity numbers, the policy model with its checks,
//! and the clock. Nothing here does IO; time always comes in as a parameter.

pub mod audit;
pub mod clock;
pub mod consent;
pub mod identity;
pub mod input_error;
pub mod marketing;
pub mod personal;
pub mod policy;
pub mod report;
pub mod request;
pub mod retention;
pub mod subject;
pub mod value;

pub use clock::Clock;
