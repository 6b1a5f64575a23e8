//! The policy file (`policy.toml`): parsing, the legal checks and the rendered notice.

use integritet_domain::policy::{self, PolicyVersion, lint};
use integritet_notice::{Format, Lang, render_notice, render_ropa_csv, render_ropa_json};
use pulldown_cmark::{Event, Parser};

use crate::broken;

/// Tags the HTML notice is made of; anything else came from the policy's text unescaped.
const HTML_TAGS: &[&str] = &[
    "!doctype", "html", "head", "meta", "title", "style", "body", "main", "nav", "section",
    "footer", "div", "h1", "h2", "h3", "h4", "h5", "h6", "p", "ol", "ul", "li", "a", "strong",
    "code", "table", "caption", "thead", "tbody", "tr", "th", "td",
];

/// Attributes the HTML notice writes.
const HTML_ATTRIBUTES: &[&str] = &[
    "aria-labelledby",
    "charset",
    "class",
    "content",
    "href",
    "id",
    "lang",
    "name",
    "scope",
];

/// The input as UTF-8 goes to `policy::parse`. An error names a line of the text; a policy
/// that parses has the version of its content, is checked by `lint::check` (findings in file
/// order, on lines of the text), and renders: the notice in Swedish and English, as HTML made
/// only of the notice's own tags and attributes with safe links, and as Markdown that holds no
/// raw HTML, both ending with the version; the register as CSV and JSON.
pub fn policy_toml(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // An error may point just past the last line (end of input).
    let last_line = text.lines().count() + 1;
    let loaded = match policy::parse("policy.toml", text) {
        Ok(loaded) => loaded,
        Err(error) => {
            if let Some(line) = error.line {
                assert!((1..=last_line).contains(&line), "line {line}: {error}");
            }
            assert!(!error.message.is_empty(), "{error:?}");
            assert!(error.to_string().starts_with("policy.toml:"), "{error}");
            return;
        }
    };
    assert_eq!(loaded.version, PolicyVersion::of(&loaded.policy));

    let findings = lint::check(&loaded);
    for finding in &findings {
        assert!(!finding.code.is_empty() && !finding.message.is_empty());
        if let Some(line) = finding.line {
            assert!((1..=last_line).contains(&line), "{finding:?}");
        }
    }
    let order: Vec<usize> = findings
        .iter()
        .map(|f| f.line.unwrap_or(usize::MAX))
        .collect();
    assert!(order.is_sorted(), "findings out of file order: {order:?}");

    let version = loaded.version.as_str();
    for lang in [Lang::Sv, Lang::En] {
        let html = render_notice(&loaded.policy, &loaded.version, lang, Format::Html);
        check_html(&html);
        assert!(html.contains(version));
        let markdown = render_notice(&loaded.policy, &loaded.version, lang, Format::Markdown);
        check_markdown(&markdown);
        assert!(markdown.contains(version));
    }
    // The register's CSV may fail only by the CSV writer's own errors, never by a panic.
    let _ = render_ropa_csv(&loaded.policy, &loaded.version);
    let json = render_ropa_json(&loaded.policy, &loaded.version);
    assert!(serde_json::to_string(&json).is_ok());
}

/// Every tag is one of the notice's, every attribute one it writes, every attribute value
/// quoted without a quote inside, every link to the web, mail or this page, and the only
/// `<style>` holds no markup.
fn check_html(html: &str) {
    assert!(html.starts_with("<!doctype html>\n"), "{html:.80}");
    let mut rest = html;
    while let Some(open) = rest.find('<') {
        let after = &rest[open + 1..];
        let Some(close) = after.find('>') else {
            broken(format_args!("an unclosed tag: {after:.80}"))
        };
        let tag = &after[..close];
        rest = &after[close + 1..];
        let body = tag.strip_prefix('/').unwrap_or(tag);
        let (name, attributes) = body.split_once(' ').unwrap_or((body, ""));
        assert!(
            HTML_TAGS.contains(&name.to_ascii_lowercase().as_str()),
            "a tag the notice does not write: <{tag}>"
        );
        if name == "!doctype" {
            continue;
        }
        check_attributes(tag, attributes);
        if name == "style" && !tag.starts_with('/') {
            let end = rest.find("</style>");
            assert!(end.is_some_and(|end| !rest[..end].contains('<')), "style");
        }
    }
}

fn check_attributes(tag: &str, mut attributes: &str) {
    loop {
        attributes = attributes.trim_start();
        if attributes.is_empty() {
            return;
        }
        let Some(equals) = attributes.find("=\"") else {
            broken(format_args!("an attribute without a quoted value: <{tag}>"))
        };
        let name = &attributes[..equals];
        assert!(
            HTML_ATTRIBUTES.contains(&name),
            "an attribute the notice does not write: <{tag}>"
        );
        let value_and_rest = &attributes[equals + 2..];
        let Some(end) = value_and_rest.find('"') else {
            broken(format_args!("an unterminated attribute: <{tag}>"))
        };
        let value = &value_and_rest[..end];
        if name == "href" {
            let lower = value.to_ascii_lowercase();
            assert!(
                ["#", "https://", "http://", "mailto:"]
                    .iter()
                    .any(|scheme| lower.starts_with(scheme)),
                "an unsafe link: <{tag}>"
            );
        }
        attributes = &value_and_rest[end + 1..];
    }
}

/// A CommonMark reader finds no HTML in the Markdown notice: whatever the policy says is text.
fn check_markdown(markdown: &str) {
    for event in Parser::new(markdown) {
        assert!(
            !matches!(event, Event::Html(_) | Event::InlineHtml(_)),
            "raw HTML in the Markdown notice: {event:?}"
        );
    }
}
