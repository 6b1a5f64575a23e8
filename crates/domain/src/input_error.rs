//! Messages about bad input that never repeat the input. serde's messages quote what they
//! could not take (``unknown variant `anna@example.se` ``, ``invalid type: integer
//! `701112233` ``, `invalid type: string "19811228-9874"`), and what a caller put in the wrong
//! place may be personal data. What is kept: the kind of problem, the kind of value found, the
//! field path and what was expected — all from our own types, never from the caller.

/// Where the caller's input sits in serde's messages: the marker, and whether the kind of
/// value found (`integer`, `string`, …) follows it and is kept.
const QUOTING: [(&str, bool); 5] = [
    ("unknown variant ", false),
    // axum's message about a path segment: ``Cannot parse `…` to a `u32` ``.
    ("Cannot parse ", false),
    ("unknown field ", false),
    ("invalid type: ", true),
    ("invalid value: ", true),
];

/// What serde's text says after the input it quotes; the last one is serde's own, since the
/// input before it may contain the same words.
const AFTER_INPUT: [&str; 3] = [", expected ", ", there are no fields", " to a `"];

/// What axum writes before the path of a JSON body's bad field.
const PATH_AFTER: &str = "target type: ";

/// `message` without any input it quotes.
pub fn without_input(message: &str) -> String {
    let Some((at, marker, keep_kind)) = QUOTING
        .iter()
        .filter_map(|(marker, keep)| message.find(marker).map(|at| (at, *marker, *keep)))
        .min_by_key(|(at, _, _)| *at)
    else {
        return blank_quoted(message);
    };
    let start = at + marker.len();
    let rest = &message[start..];
    let tail = AFTER_INPUT
        .iter()
        .filter_map(|after| rest.rfind(after))
        .max()
        .map_or("", |end| &rest[end..]);
    let found = &rest[..rest.len() - tail.len()];
    let mut out = String::with_capacity(message.len());
    // The path to an unknown field ends in the caller's key: the path goes with it (axum puts
    // it after "…target type: ").
    if marker == "unknown field " {
        let path_start = message[..at]
            .find(PATH_AFTER)
            .map_or(0, |i| i + PATH_AFTER.len());
        out.push_str(&message[..path_start]);
        // The path ends in the caller's key (quoted in the message as found); what comes
        // before it is kept when it is our own field names and indices (`values[0]`).
        let path = message[path_start..at].trim_end_matches(": ");
        let key = found.strip_prefix('`').and_then(|f| f.strip_suffix('`'));
        let parent = key
            .and_then(|key| path.strip_suffix(key))
            .map(|parent| parent.trim_end_matches('.'));
        if let Some(parent) = parent.filter(|p| !p.is_empty() && p.split('.').all(is_field_name)) {
            out.push_str(parent);
            out.push_str(": ");
        }
    } else {
        out.push_str(&message[..at]);
    }
    out.push_str(marker.trim_end_matches([' ', ':']));
    if keep_kind {
        // `integer `7011…``, `string "…"`, `map`: the words before any quote.
        let kind = found.split(['`', '"', '\'']).next().unwrap_or("").trim();
        if !kind.is_empty() && kind.chars().all(|c| c.is_ascii_lowercase() || c == ' ') {
            out.push_str(": ");
            out.push_str(kind);
        }
    }
    out.push_str(tail);
    blank_quoted(&out)
}

/// One of our field names with its indices, `values[0]`: never the caller's words.
fn is_field_name(segment: &str) -> bool {
    let name_end = segment.find('[').unwrap_or(segment.len());
    let (name, indices) = segment.split_at(name_end);
    !name.is_empty()
        && name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
        && indices.split_inclusive(']').all(|index| {
            index.len() > 2
                && index.starts_with('[')
                && index.ends_with(']')
                && index[1..index.len() - 1]
                    .bytes()
                    .all(|b| b.is_ascii_digit())
        })
}

/// Anything still in double quotes is blanked, as a last guard for messages of other shapes.
fn blank_quoted(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut quoted = false;
    for c in message.chars() {
        match (c, quoted) {
            ('"', false) => {
                quoted = true;
                out.push_str("\"…");
            }
            ('"', true) => {
                quoted = false;
                out.push('"');
            }
            (_, true) => {}
            (c, false) => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn serde_message<T: serde::de::DeserializeOwned + std::fmt::Debug>(json: &str) -> String {
        serde_json::from_str::<T>(json).unwrap_err().to_string()
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Shape {
        kind: Kind,
        phone: String,
        count: Option<u32>,
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(rename_all = "snake_case")]
    enum Kind {
        Person,
        Organisation,
    }

    #[test]
    fn no_input_survives_whatever_serde_quotes() {
        let secrets = [
            "anna@example.se",
            "19811228-9874",
            "701112233",
            "a`b, expected x",
            "quote\"inside",
        ];
        for secret in secrets {
            let escaped = serde_json::to_string(secret).unwrap();
            for json in [
                format!(r#"{{"kind":{escaped},"phone":"x"}}"#),
                format!(r#"{{"kind":"person","phone":"x",{escaped}:1}}"#),
                format!(r#"{{"kind":"person","phone":"x","count":{escaped}}}"#),
            ] {
                let raw = serde_message::<Shape>(&json);
                let clean = without_input(&raw);
                assert!(!clean.contains(secret), "{raw} -> {clean}");
                assert!(
                    clean.contains("expected") || clean.contains("unknown"),
                    "{clean}"
                );
            }
        }
        let number = serde_message::<Shape>(r#"{"kind":"person","phone":701112233}"#);
        let clean = without_input(&number);
        assert!(!clean.contains("701112233"), "{clean}");
        assert!(
            clean.starts_with("invalid type: integer, expected a string"),
            "{clean}"
        );
    }

    #[test]
    fn what_was_expected_and_where_stay() {
        let raw = serde_message::<Shape>(r#"{"kind":"anna@example.se","phone":"x"}"#);
        assert_eq!(
            without_input(&raw),
            "unknown variant, expected `person` or `organisation` at line 1 column 25"
        );
        assert_eq!(
            without_input("Cannot parse `anna@example.se` to a `u32`"),
            "Cannot parse to a `u32`"
        );
        assert_eq!(
            without_input(
                "Failed to deserialize the JSON body into the target type: anna@example.se: \
                 unknown field `anna@example.se`, expected `kind` at line 1 column 3"
            ),
            "Failed to deserialize the JSON body into the target type: unknown field, expected \
             `kind` at line 1 column 3"
        );
        assert_eq!(
            without_input(
                "Failed to deserialize the JSON body into the target type: values[0].anna.l@x.se: \
                 unknown field `anna.l@x.se`, expected `kind`"
            ),
            "Failed to deserialize the JSON body into the target type: values[0]: unknown field, \
             expected `kind`"
        );
        let missing = serde_message::<Shape>(r#"{"kind":"person"}"#);
        assert_eq!(
            without_input(&missing),
            missing,
            "nothing of the caller's in it"
        );
    }
}
