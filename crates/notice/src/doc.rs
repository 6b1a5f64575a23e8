//! The notice as one structured document, rendered to Markdown and to HTML by the same walk, so
//! the two formats always say the same thing.
//!
//! Text here is plain: the renderers escape it for their format.

use integritet_domain::policy::Lang;

/// The whole notice.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Document {
    pub lang: Lang,
    pub title: String,
    /// Heading of the table of contents (HTML only).
    pub toc_heading: String,
    pub sections: Vec<Section>,
    pub footer: Vec<Block>,
}

/// A section with a heading; top-level sections are level 2 (the title is level 1).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Section {
    /// Anchor id, ASCII, unique in the document.
    pub id: String,
    pub heading: String,
    pub blocks: Vec<Block>,
    pub subsections: Vec<Section>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Block {
    Paragraph(Vec<Inline>),
    /// A bulleted list; each item is a run of inline content.
    List(Vec<Vec<Inline>>),
    Table(Table),
}

/// A table whose first column holds the row headers.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Table {
    pub caption: String,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Vec<Inline>>>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Inline {
    Text(String),
    Strong(String),
    Code(String),
    Link { text: String, href: String },
}

impl Inline {
    pub fn text(s: impl Into<String>) -> Inline {
        Inline::Text(s.into())
    }
}

/// Collapses every run of whitespace (including line breaks from multi-line TOML strings) to one
/// space, so a policy text is always one paragraph in both formats.
pub(crate) fn clean(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Whether a link target from the policy may become a link. Anything else (e.g. `javascript:`)
/// is shown as text.
pub(crate) fn is_safe_href(href: &str) -> bool {
    let lower = href.trim().to_ascii_lowercase();
    lower.starts_with("https://") || lower.starts_with("http://") || lower.starts_with("mailto:")
}
