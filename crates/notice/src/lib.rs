//! Renders the human-readable privacy notice (Swedish and English; Markdown and HTML) and the
//! GDPR Art. 30(1) record of processing activities (CSV and JSON) from a policy.
//!
//! Pure: no IO. The notice is built once as a structured document and rendered to both
//! formats, so the Markdown and the HTML always say the same thing. All fixed sentences live in
//! [`texts`](crate::texts) (one struct per language).

mod doc;
mod html;
mod markdown;
mod notice;
mod report;
mod report_texts;
mod ropa;
mod texts;
mod words;

pub use integritet_domain::policy::Lang;
use integritet_domain::policy::{Policy, PolicyVersion};
pub use ropa::{RopaError, render_ropa_csv, render_ropa_json};

/// The output format of the notice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// CommonMark (tables as pipe tables).
    Markdown,
    /// A standalone HTML page with inline CSS and no scripts.
    Html,
}

/// Renders a person's Art. 15 access report in one language and format, from the same document
/// structure as the notice (the HTML prints on A4).
pub fn render_access_report(
    policy: &Policy,
    version: &PolicyVersion,
    report: &integritet_domain::report::AccessReport,
    lang: Lang,
    format: Format,
) -> String {
    let document = report::build(policy, version, report, lang);
    match format {
        Format::Markdown => markdown::render(&document),
        Format::Html => html::render(&document),
    }
}

/// Renders the privacy notice of a policy in one language and format.
pub fn render_notice(
    policy: &Policy,
    version: &PolicyVersion,
    lang: Lang,
    format: Format,
) -> String {
    let document = notice::build(policy, version, lang);
    match format {
        Format::Markdown => markdown::render(&document),
        Format::Html => html::render(&document),
    }
}
