//! Renders the [`Document`] as CommonMark. Tables use the pipe-table extension that GitHub,
//! GitLab and most renderers understand (in strict CommonMark they read as plain text).

use crate::doc::{Block, Document, Inline, Section, Table, clean, is_safe_href};

pub(crate) fn render(doc: &Document) -> String {
    let mut out = String::new();
    out.push_str("# ");
    out.push_str(&escape_line(&escape_text(&clean(&doc.title))));
    out.push_str("\n\n");
    for section in &doc.sections {
        render_section(&mut out, section, 2);
    }
    out.push_str("---\n\n");
    for block in &doc.footer {
        render_block(&mut out, block);
    }
    // Exactly one final newline.
    while out.ends_with("\n\n") {
        out.pop();
    }
    out
}

fn render_section(out: &mut String, section: &Section, level: usize) {
    out.push_str(&"#".repeat(level.min(6)));
    out.push(' ');
    out.push_str(&escape_text(&clean(&section.heading)));
    out.push_str("\n\n");
    for block in &section.blocks {
        render_block(out, block);
    }
    for sub in &section.subsections {
        render_section(out, sub, level + 1);
    }
}

fn render_block(out: &mut String, block: &Block) {
    match block {
        Block::Paragraph(inlines) => {
            out.push_str(&escape_line(&render_inlines(inlines)));
            out.push_str("\n\n");
        }
        Block::List(items) => {
            for item in items {
                out.push_str("- ");
                out.push_str(&escape_line(&render_inlines(item)));
                out.push('\n');
            }
            out.push('\n');
        }
        Block::Table(table) => render_table(out, table),
    }
}

fn render_table(out: &mut String, table: &Table) {
    // Pipe tables have no caption: it goes in a bold paragraph right above the table.
    out.push_str("**");
    out.push_str(&escape_text(&clean(&table.caption)));
    out.push_str("**\n\n");
    let cells: Vec<String> = table
        .columns
        .iter()
        .map(|c| escape_text(&clean(c)))
        .collect();
    push_row(out, &cells);
    push_row(out, &vec!["---".to_owned(); table.columns.len()]);
    for row in &table.rows {
        let cells: Vec<String> = row.iter().map(|cell| render_inlines(cell)).collect();
        push_row(out, &cells);
    }
    out.push('\n');
}

fn push_row(out: &mut String, cells: &[String]) {
    out.push('|');
    for cell in cells {
        out.push(' ');
        out.push_str(cell);
        out.push_str(" |");
    }
    out.push('\n');
}

fn render_inlines(inlines: &[Inline]) -> String {
    let mut out = String::new();
    for inline in inlines {
        match inline {
            Inline::Text(t) => out.push_str(&escape_text(&clean_keep_edges(t))),
            Inline::Strong(t) => {
                out.push_str("**");
                out.push_str(&escape_text(&clean(t)));
                out.push_str("**");
            }
            Inline::Code(t) => out.push_str(&code_span(&clean(t))),
            Inline::Link { text, href } => {
                let text = escape_text(&clean(text));
                if is_safe_href(href) {
                    out.push('[');
                    out.push_str(&text);
                    out.push_str("](");
                    out.push_str(&escape_destination(href.trim()));
                    out.push(')');
                } else {
                    out.push_str(&text);
                }
            }
        }
    }
    out
}

/// Collapses whitespace like [`clean`] but keeps one leading and one trailing space, which
/// separate a text run from the inline element next to it.
fn clean_keep_edges(text: &str) -> String {
    let lead = text.starts_with(char::is_whitespace);
    let trail = text.ends_with(char::is_whitespace) && !text.trim().is_empty();
    let mut out = String::new();
    if lead {
        out.push(' ');
    }
    out.push_str(&clean(text));
    if trail {
        out.push(' ');
    }
    out
}

/// Backslash-escapes the characters that could start Markdown syntax inside a line: emphasis,
/// links, code, raw HTML, entities, table cells, and headings.
pub(crate) fn escape_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(
            c,
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '#' | '|' | '~' | '&'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Escapes what only matters at the start of a line: list markers (`-`, `+`, `1.`, `1)`),
/// setext underlines (`=`) and indentation (which would make a code block).
pub(crate) fn escape_line(line: &str) -> String {
    let line = line.trim_start();
    let first = line.chars().next();
    match first {
        Some('-' | '+' | '=') => format!("\\{line}"),
        Some(c) if c.is_ascii_digit() => {
            let digits = line.chars().take_while(char::is_ascii_digit).count();
            match line[digits..].chars().next() {
                Some('.' | ')') => format!("{}\\{}", &line[..digits], &line[digits..]),
                _ => line.to_owned(),
            }
        }
        _ => line.to_owned(),
    }
}

/// A link destination: characters that would end or break it are percent-encoded.
fn escape_destination(href: &str) -> String {
    let mut out = String::with_capacity(href.len());
    for c in href.chars() {
        match c {
            ' ' => out.push_str("%20"),
            '(' => out.push_str("%28"),
            ')' => out.push_str("%29"),
            '<' => out.push_str("%3C"),
            '>' => out.push_str("%3E"),
            '\\' => out.push_str("%5C"),
            '`' => out.push_str("%60"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// A code span that survives backticks in its content. Pipes are escaped for table cells
/// (GitHub-style tables take `\|` inside code spans as a literal pipe).
fn code_span(text: &str) -> String {
    let longest_run = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest_run + 1);
    let pad = if text.starts_with('`') || text.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{}{pad}{fence}", text.replace('|', "\\|"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_inline_syntax() {
        assert_eq!(
            escape_text("a_b *c* [d](e) <f> & g|h"),
            "a\\_b \\*c\\* \\[d\\](e) \\<f\\> \\& g\\|h"
        );
    }

    #[test]
    fn escapes_line_starts() {
        assert_eq!(escape_line("- a"), "\\- a");
        assert_eq!(escape_line("2024. a"), "2024\\. a");
        assert_eq!(escape_line("36 månader"), "36 månader");
        assert_eq!(escape_line("    code"), "code");
        assert_eq!(escape_line("= x"), "\\= x");
    }

    #[test]
    fn code_spans_survive_backticks() {
        assert_eq!(code_span("a"), "`a`");
        assert_eq!(code_span("a`b"), "``a`b``");
        assert_eq!(code_span("`a"), "`` `a ``");
    }

    #[test]
    fn destinations_cannot_break_out() {
        assert_eq!(
            escape_destination("https://x.se/a b)c"),
            "https://x.se/a%20b%29c"
        );
    }
}
