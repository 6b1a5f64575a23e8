//! Small language helpers: filling sentence templates, joining lists the way a person writes
//! them, and lower-casing labels mid-sentence.

use crate::doc::Inline;
use crate::texts::Texts;

/// Fills `{name}` placeholders of a sentence template with inline content. Unknown placeholders
/// are left as written, so a typo in a translation shows up instead of vanishing.
pub(crate) fn fill(template: &str, args: &[(&str, Vec<Inline>)]) -> Vec<Inline> {
    let mut out: Vec<Inline> = Vec::new();
    let mut rest = template;
    // A value that ends a sentence with its own full stop ("… 27 kap.") takes the place of the
    // template's full stop, so the sentence never ends in "..".
    let mut ends_with_period = false;
    let strip = |text: &'_ str, ends_with_period: bool| -> String {
        if ends_with_period {
            text.strip_prefix('.').unwrap_or(text).to_owned()
        } else {
            text.to_owned()
        }
    };
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else {
            break;
        };
        let name = &after[..close];
        match args.iter().find(|(n, _)| *n == name) {
            Some((_, value)) => {
                push_text(&mut out, &strip(&rest[..open], ends_with_period));
                for inline in value {
                    match inline {
                        Inline::Text(t) => push_text(&mut out, t),
                        other => out.push(other.clone()),
                    }
                }
                ends_with_period =
                    matches!(value.last(), Some(Inline::Text(t)) if t.trim_end().ends_with('.'));
            }
            None => {
                push_text(
                    &mut out,
                    &strip(&rest[..open + 1 + close + 1], ends_with_period),
                );
                ends_with_period = false;
            }
        }
        rest = &after[close + 1..];
    }
    push_text(&mut out, &strip(rest, ends_with_period));
    out
}

/// Fills placeholders with plain text.
pub(crate) fn fill_str(template: &str, args: &[(&str, &str)]) -> String {
    let inline_args: Vec<(&str, Vec<Inline>)> = args
        .iter()
        .map(|(n, v)| (*n, vec![Inline::text(*v)]))
        .collect();
    fill(template, &inline_args)
        .into_iter()
        .map(|i| match i {
            Inline::Text(t) | Inline::Strong(t) | Inline::Code(t) => t,
            Inline::Link { text, .. } => text,
        })
        .collect()
}

fn push_text(out: &mut Vec<Inline>, text: &str) {
    if text.is_empty() {
        return;
    }
    if let Some(Inline::Text(last)) = out.last_mut() {
        last.push_str(text);
    } else {
        out.push(Inline::text(text));
    }
}

/// How the last item of a list is joined, in the three situations [`join`] tells apart.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Conjunction {
    /// "a, b och c".
    pub plain: &'static str,
    /// When an item already contains the conjunction: "a, b samt c och d".
    pub nested: &'static str,
    /// When items are separated by semicolons: "a; b, c; samt d".
    pub after_semicolons: &'static str,
}

/// Joins items the way a person writes a list in running text: "a, b och c". When an item
/// itself contains a comma, items are separated by semicolons so the reader can tell them
/// apart; when an item already contains the conjunction, the last one is joined differently
/// ("samt" / ", and").
pub(crate) fn join(items: &[String], conjunction: Conjunction) -> String {
    let semicolons = items.iter().any(|i| i.contains(','));
    let word = conjunction.plain.trim();
    let nested = items
        .iter()
        .any(|i| i.split_whitespace().any(|w| w == word));
    let (separator, last_separator) = if semicolons {
        ("; ", conjunction.after_semicolons)
    } else if nested {
        (", ", conjunction.nested)
    } else {
        (", ", conjunction.plain)
    };
    join_with(items, separator, last_separator)
}

/// Joins items with plain separators (for quoted items, which need no disambiguation).
pub(crate) fn join_with(items: &[String], separator: &str, last_separator: &str) -> String {
    match items {
        [] => String::new(),
        [only] => only.clone(),
        [init @ .., last] => format!("{}{last_separator}{last}", init.join(separator)),
    }
}

pub(crate) fn join_and(texts: &Texts, items: &[String]) -> String {
    join(items, texts.and)
}

pub(crate) fn join_or(texts: &Texts, items: &[String]) -> String {
    join(items, texts.or)
}

/// Lower-cases the first letter of a label used mid-sentence ("E-postadress" → "e-postadress"),
/// but leaves abbreviations alone ("IP-adress", "GPS").
pub(crate) fn lower_first(label: &str) -> String {
    let mut chars = label.chars();
    let Some(first) = chars.next() else {
        return String::new();
    };
    let second_is_upper = chars.next().is_some_and(char::is_uppercase);
    if second_is_upper || !first.is_uppercase() {
        return label.to_owned();
    }
    let mut out: String = first.to_lowercase().collect();
    out.push_str(&label[first.len_utf8()..]);
    out
}

/// Upper-cases the first letter (for table cells that start with a phrase).
pub(crate) fn upper_first(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Drops a trailing full stop, so a policy sentence can be embedded in one of ours.
pub(crate) fn without_final_period(text: &str) -> &str {
    text.trim_end().strip_suffix('.').unwrap_or(text.trim_end())
}

pub(crate) fn months(texts: &Texts, n: u32) -> String {
    let template = if n == 1 {
        texts.month_one
    } else {
        texts.months_many
    };
    fill_str(template, &[("n", &n.to_string())])
}

pub(crate) fn quoted(texts: &Texts, text: &str) -> String {
    format!("{}{text}{}", texts.quote_open, texts.quote_close)
}

/// "ändamålet ”X”" or "ändamålen ”X” och ”Y”".
pub(crate) fn purposes_phrase(texts: &Texts, labels: &[String]) -> String {
    let quoted_labels: Vec<String> = labels.iter().map(|l| quoted(texts, l)).collect();
    let list = join_with(&quoted_labels, ", ", texts.and.plain);
    let template = if labels.len() == 1 {
        texts.purpose_one
    } else {
        texts.purposes_many
    };
    fill_str(template, &[("purposes", &list)])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::texts::{EN, SV};

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn joins_like_a_person_writes() {
        assert_eq!(
            join_and(&SV, &strings(&["namn", "adress", "e-post"])),
            "namn, adress och e-post"
        );
        assert_eq!(
            join_and(&EN, &strings(&["name", "address", "e-mail"])),
            "name, address and e-mail"
        );
        assert_eq!(join_and(&SV, &strings(&["namn"])), "namn");
        assert_eq!(
            join_and(&SV, &strings(&["namn", "adress"])),
            "namn och adress"
        );
        assert_eq!(
            join_or(&SV, &strings(&["ett köp", "en kontakt"])),
            "ett köp eller en kontakt"
        );
        assert_eq!(
            join_and(&SV, &strings(&["namn", "köp och orderhistorik"])),
            "namn samt köp och orderhistorik"
        );
        assert_eq!(
            join_and(
                &SV,
                &strings(&["namn", "personnummer, samordningsnummer", "adress"])
            ),
            "namn; personnummer, samordningsnummer samt adress"
        );
        assert_eq!(
            join_and(
                &EN,
                &strings(&["name", "purchases and order history", "IP address"])
            ),
            "name, purchases and order history, and IP address"
        );
        assert_eq!(
            join_and(&EN, &strings(&["name", "number, or id", "address"])),
            "name; number, or id; and address"
        );
    }

    #[test]
    fn lower_cases_labels_but_not_abbreviations() {
        assert_eq!(lower_first("E-postadress"), "e-postadress");
        assert_eq!(lower_first("IP-adress"), "IP-adress");
        assert_eq!(lower_first("Namn"), "namn");
        assert_eq!(lower_first("Ärende"), "ärende");
        assert_eq!(lower_first(""), "");
        assert_eq!(lower_first("X"), "x");
    }

    #[test]
    fn fills_templates_and_keeps_unknown_placeholders() {
        assert_eq!(fill_str("a {x} b {y}", &[("x", "1")]), "a 1 b {y}");
        assert_eq!(fill_str("{x}", &[("x", "{x}")]), "{x}");
        assert_eq!(fill_str("open { only", &[]), "open { only");
        assert_eq!(
            fill_str("enligt {law}.", &[("law", "27 kap.")]),
            "enligt 27 kap."
        );
        assert_eq!(fill_str("{a}. {b}.", &[("a", "x."), ("b", "y")]), "x. y.");
    }

    #[test]
    fn months_agree_in_number() {
        assert_eq!(months(&SV, 1), "1 månad");
        assert_eq!(months(&SV, 36), "36 månader");
        assert_eq!(months(&EN, 1), "1 month");
    }

    #[test]
    fn names_purposes() {
        assert_eq!(
            purposes_phrase(&SV, &strings(&["Bokföring"])),
            "ändamålet ”Bokföring”"
        );
        assert_eq!(
            purposes_phrase(&EN, &strings(&["A, b", "C", "D"])),
            "the purposes “A, b”, “C” and “D”"
        );
    }
}
