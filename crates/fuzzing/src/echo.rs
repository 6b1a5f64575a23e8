//! Whether a message repeats what the caller sent.
//!
//! A message may use our own words (field names, expected values, serde's phrases) even when
//! the input holds them too: they are taken out of the message first. Anything left that it
//! shares with the input, [`ECHO_CHARS`] characters or more, is the input repeated. Checking
//! every run of exactly that length is enough: a longer shared piece contains one.

use std::collections::HashSet;

/// Shared pieces this long or longer count as repeating the input.
pub const ECHO_CHARS: usize = 6;

/// The first piece of `message`, [`ECHO_CHARS`] characters long, that occurs in one of
/// `inputs` once `ours` are taken out of the message.
pub fn echoed(message: &str, inputs: &[&str], ours: &[&str]) -> Option<String> {
    Echoes::new(inputs, &Vocabulary::new(ours)).find(message)
}

/// Our own words, longest first (so that a word is taken out before a shorter one inside it).
#[derive(Debug)]
pub struct Vocabulary<'w>(Vec<&'w str>);

impl<'w> Vocabulary<'w> {
    pub fn new(words: &[&'w str]) -> Vocabulary<'w> {
        let mut words: Vec<&str> = words.iter().copied().filter(|w| !w.is_empty()).collect();
        words.sort_by_key(|w| std::cmp::Reverse(w.len()));
        Vocabulary(words)
    }

    /// `message` with each of our words replaced by a NUL, which no piece spans.
    fn strip(&self, message: &str) -> String {
        self.0
            .iter()
            .fold(message.to_owned(), |text, word| text.replace(word, "\0"))
    }
}

/// The pieces of one input, to check the messages about it against.
#[derive(Debug)]
pub struct Echoes<'a> {
    inputs: HashSet<&'a str>,
    ours: &'a Vocabulary<'a>,
}

impl<'a> Echoes<'a> {
    pub fn new(inputs: &[&'a str], ours: &'a Vocabulary<'a>) -> Echoes<'a> {
        Echoes {
            inputs: inputs.iter().flat_map(|t| pieces(t)).collect(),
            ours,
        }
    }

    /// The first piece of `message`, without our words, that is the input's.
    pub fn find(&self, message: &str) -> Option<String> {
        // Most messages share nothing with the input: no need to take our words out.
        pieces(message).find(|piece| self.inputs.contains(piece))?;
        let stripped = self.ours.strip(message);
        stripped
            .split('\0')
            .flat_map(pieces)
            .find(|piece| self.inputs.contains(piece))
            .map(str::to_owned)
    }
}

/// Every run of [`ECHO_CHARS`] characters in `text`.
fn pieces(text: &str) -> impl Iterator<Item = &str> {
    let starts: Vec<usize> = text
        .char_indices()
        .map(|(i, _)| i)
        .chain([text.len()])
        .collect();
    starts
        .windows(ECHO_CHARS + 1)
        .map(move |w| &text[w[0]..w[ECHO_CHARS]])
        .collect::<Vec<_>>()
        .into_iter()
}

/// The strings a JSON text holds once its escapes are read (keys, strings, numbers), since a
/// message would quote them decoded; empty when it is not JSON.
pub(crate) fn json_strings(text: &str) -> Vec<String> {
    fn walk(value: &serde_json::Value, out: &mut Vec<String>) {
        match value {
            serde_json::Value::String(s) => out.push(s.clone()),
            serde_json::Value::Number(n) => out.push(n.to_string()),
            serde_json::Value::Array(items) => items.iter().for_each(|v| walk(v, out)),
            serde_json::Value::Object(map) => {
                for (key, v) in map {
                    out.push(key.clone());
                    walk(v, out);
                }
            }
            serde_json::Value::Bool(_) | serde_json::Value::Null => {}
        }
    }
    let mut out = Vec::new();
    if let Ok(value) = serde_json::from_str::<serde_json::Value>(text) {
        walk(&value, &mut out);
    }
    out
}

/// serde's and serde_json's own phrases, which a message may use whatever the input.
pub(crate) const SERDE_WORDS: &[&str] = &[
    "invalid type: ",
    "invalid value: ",
    "invalid length ",
    "unknown variant",
    "unknown field",
    "missing field",
    "duplicate field",
    ", expected ",
    "expected one of ",
    "a sequence",
    "a string",
    "a map",
    "struct ",
    "enum ",
    "string",
    "integer",
    "floating point",
    "boolean",
    "sequence",
    "unit value",
    "null",
    "map",
    "option",
    "at line ",
    " column ",
    "EOF while parsing a list",
    "EOF while parsing an object",
    "EOF while parsing a string",
    "EOF while parsing a value",
    "expected `:`",
    "expected `,` or `]`",
    "expected `,` or `}`",
    "expected ident",
    "expected value",
    "expected `\"`",
    "invalid escape",
    "invalid number",
    "number out of range",
    "invalid unicode code point",
    "control character (\\u0000-\\u001F) found while parsing a string",
    "key must be a string",
    "lone leading surrogate in hex escape",
    "trailing comma",
    "trailing characters",
    "unexpected end of hex escape",
    "recursion limit exceeded",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_a_repeated_piece_and_allows_our_words() {
        let input = r#"{"kind":"anna@example.se"}"#;
        assert_eq!(
            echoed("unknown variant `anna@example.se`", &[input], &[]).as_deref(),
            Some("anna@e")
        );
        assert_eq!(
            echoed(
                "unknown variant, expected `person`",
                &[r#"{"kind":"person"}"#],
                &["person"]
            ),
            None
        );
        assert_eq!(echoed("åäö", &["åäö"], &[]), None, "shorter than a piece");
        assert_eq!(
            json_strings(r#"{"a\u0062":"\u00e5x"}"#),
            vec!["ab".to_owned(), "åx".to_owned()]
        );
    }
}
