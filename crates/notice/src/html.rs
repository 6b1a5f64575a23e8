//! Renders the [`Document`] as a standalone, accessible HTML page: one `<h1>`, ordered heading
//! levels, a table of contents, `<main>`, tables with captions and scoped header cells, inline
//! CSS only (no external resources, no JavaScript). Every text is escaped.

use crate::doc::{Block, Document, Inline, Section, Table, clean, is_safe_href};

/// Readable on screen and on paper: system fonts, a comfortable line length, contrast above
/// WCAG AA, visible focus, no colour-only meaning.
const STYLE: &str = "
  :root { color-scheme: light; }
  body {
    margin: 0;
    background: #ffffff;
    color: #1b1b1b;
    font-family: system-ui, -apple-system, \"Segoe UI\", Roboto, \"Helvetica Neue\", Arial, sans-serif;
    font-size: 1.0625rem;
    line-height: 1.6;
  }
  main, footer { max-width: 46rem; margin: 0 auto; padding: 0 1.25rem; }
  main { padding-top: 2rem; }
  h1, h2, h3 { line-height: 1.25; color: #111111; }
  h1 { font-size: 2rem; margin: 0 0 1.5rem; }
  h2 { font-size: 1.5rem; margin-top: 2.5rem; padding-top: 0.5rem; border-top: 1px solid #d0d0d0; }
  h3 { font-size: 1.2rem; margin-top: 1.75rem; }
  p, li { max-width: 70ch; }
  a { color: #0b57a4; text-decoration: underline; text-underline-offset: 0.15em; }
  a:visited { color: #5b2a86; }
  a:focus-visible { outline: 3px solid #1b1b1b; outline-offset: 2px; }
  code { font-family: ui-monospace, \"SFMono-Regular\", Menlo, Consolas, monospace; font-size: 0.95em; }
  nav { background: #f3f5f7; border: 1px solid #d0d0d0; padding: 0.75rem 1.25rem; }
  nav h2 { font-size: 1.1rem; margin: 0.25rem 0 0.5rem; border: 0; padding: 0; }
  nav ol { margin: 0; padding-left: 1.5rem; }
  .table-wrap { overflow-x: auto; margin: 1rem 0; }
  table { border-collapse: collapse; width: 100%; }
  caption { text-align: left; font-weight: 600; padding-bottom: 0.4rem; }
  th, td { border: 1px solid #8a8a8a; padding: 0.4rem 0.6rem; text-align: left; vertical-align: top; }
  thead th { background: #e8ecf0; }
  tbody th { font-weight: 600; }
  footer { margin-top: 3rem; padding-top: 1rem; padding-bottom: 2rem; border-top: 1px solid #d0d0d0; font-size: 0.9rem; color: #3b3b3b; }
  @media print {
    @page { size: A4; margin: 2cm; }
    body { font-size: 11pt; }
    main, footer { max-width: none; padding: 0; }
    nav { display: none; }
    a { color: inherit; }
    h2, h3 { break-after: avoid; page-break-after: avoid; }
    tr, li { break-inside: avoid; page-break-inside: avoid; }
    .table-wrap { overflow: visible; }
  }
";

pub(crate) fn render(doc: &Document) -> String {
    let mut out = String::new();
    out.push_str("<!doctype html>\n");
    out.push_str(&format!("<html lang=\"{}\">\n", doc.lang.as_str()));
    out.push_str("<head>\n<meta charset=\"utf-8\">\n");
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    out.push_str(&format!("<title>{}</title>\n", escape(&clean(&doc.title))));
    out.push_str("<style>");
    out.push_str(STYLE);
    out.push_str("</style>\n</head>\n<body>\n<main>\n");
    out.push_str(&format!("<h1>{}</h1>\n", escape(&clean(&doc.title))));

    out.push_str("<nav aria-labelledby=\"toc\">\n");
    out.push_str(&format!(
        "<h2 id=\"toc\">{}</h2>\n<ol>\n",
        escape(&clean(&doc.toc_heading))
    ));
    for section in &doc.sections {
        out.push_str(&format!(
            "<li><a href=\"#{}\">{}</a></li>\n",
            escape(&section.id),
            escape(&clean(&section.heading))
        ));
    }
    out.push_str("</ol>\n</nav>\n");

    for section in &doc.sections {
        render_section(&mut out, section, 2);
    }
    out.push_str("</main>\n<footer>\n");
    for block in &doc.footer {
        render_block(&mut out, block);
    }
    out.push_str("</footer>\n</body>\n</html>\n");
    out
}

fn render_section(out: &mut String, section: &Section, level: usize) {
    let level = level.min(6);
    let id = escape(&section.id);
    out.push_str(&format!("<section aria-labelledby=\"{id}\">\n"));
    out.push_str(&format!(
        "<h{level} id=\"{id}\">{}</h{level}>\n",
        escape(&clean(&section.heading))
    ));
    for block in &section.blocks {
        render_block(out, block);
    }
    for sub in &section.subsections {
        render_section(out, sub, level + 1);
    }
    out.push_str("</section>\n");
}

fn render_block(out: &mut String, block: &Block) {
    match block {
        Block::Paragraph(inlines) => {
            out.push_str("<p>");
            out.push_str(&render_inlines(inlines));
            out.push_str("</p>\n");
        }
        Block::List(items) => {
            out.push_str("<ul>\n");
            for item in items {
                out.push_str("<li>");
                out.push_str(&render_inlines(item));
                out.push_str("</li>\n");
            }
            out.push_str("</ul>\n");
        }
        Block::Table(table) => render_table(out, table),
    }
}

fn render_table(out: &mut String, table: &Table) {
    out.push_str("<div class=\"table-wrap\">\n<table>\n");
    out.push_str(&format!(
        "<caption>{}</caption>\n",
        escape(&clean(&table.caption))
    ));
    out.push_str("<thead>\n<tr>");
    for column in &table.columns {
        out.push_str(&format!(
            "<th scope=\"col\">{}</th>",
            escape(&clean(column))
        ));
    }
    out.push_str("</tr>\n</thead>\n<tbody>\n");
    for row in &table.rows {
        out.push_str("<tr>");
        for (i, cell) in row.iter().enumerate() {
            if i == 0 {
                out.push_str(&format!("<th scope=\"row\">{}</th>", render_inlines(cell)));
            } else {
                out.push_str(&format!("<td>{}</td>", render_inlines(cell)));
            }
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody>\n</table>\n</div>\n");
}

fn render_inlines(inlines: &[Inline]) -> String {
    let mut out = String::new();
    for inline in inlines {
        match inline {
            Inline::Text(t) => out.push_str(&escape(&collapse(t))),
            Inline::Strong(t) => {
                out.push_str("<strong>");
                out.push_str(&escape(&clean(t)));
                out.push_str("</strong>");
            }
            Inline::Code(t) => {
                out.push_str("<code>");
                out.push_str(&escape(&clean(t)));
                out.push_str("</code>");
            }
            Inline::Link { text, href } => {
                if is_safe_href(href) {
                    out.push_str(&format!(
                        "<a href=\"{}\">{}</a>",
                        escape(href.trim()),
                        escape(&clean(text))
                    ));
                } else {
                    out.push_str(&escape(&clean(text)));
                }
            }
        }
    }
    out
}

/// Collapses whitespace runs to one space, keeping a single space at the edges (it separates a
/// text run from the element next to it).
fn collapse(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_space = false;
    for c in text.chars() {
        if c.is_whitespace() {
            if !in_space {
                out.push(' ');
            }
            in_space = true;
        } else {
            out.push(c);
            in_space = false;
        }
    }
    out
}

/// Escapes text for HTML element content and double- or single-quoted attribute values.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            escape(r#"<script>alert("x & 'y'")</script>"#),
            "&lt;script&gt;alert(&quot;x &amp; &#39;y&#39;&quot;)&lt;/script&gt;"
        );
    }

    #[test]
    fn collapses_whitespace_keeping_edges() {
        assert_eq!(collapse(" a \n\n b "), " a b ");
    }
}
