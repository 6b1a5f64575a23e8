//! Maps key paths of the policy file back to line numbers, so every message can say where to
//! look.

use toml::de::{DeTable, DeValue};

/// The text of a policy file, kept to locate keys in it.
#[derive(Debug, Clone, Default)]
pub struct SourceMap {
    text: String,
    /// Byte offset at which each line starts.
    line_starts: Vec<usize>,
}

impl SourceMap {
    pub fn new(text: String) -> SourceMap {
        let mut line_starts = vec![0];
        line_starts.extend(
            text.bytes()
                .enumerate()
                .filter(|(_, b)| *b == b'\n')
                .map(|(i, _)| i + 1),
        );
        SourceMap { text, line_starts }
    }

    /// An empty map for policies that did not come from a file.
    pub fn empty() -> SourceMap {
        SourceMap::new(String::new())
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    /// 1-based line and column of a byte offset.
    pub fn position(&self, offset: usize) -> (usize, usize) {
        let line_index = match self.line_starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i.saturating_sub(1),
        };
        let line_start = self.line_starts.get(line_index).copied().unwrap_or(0);
        let column = self
            .text
            .get(line_start..offset)
            .map(|s| s.chars().count())
            .unwrap_or(0);
        (line_index + 1, column + 1)
    }

    pub fn position_of_span(
        &self,
        span: Option<std::ops::Range<usize>>,
    ) -> (Option<usize>, Option<usize>) {
        match span {
            Some(span) if !self.text.is_empty() => {
                let (line, column) = self.position(span.start);
                (Some(line), Some(column))
            }
            _ => (None, None),
        }
    }

    /// The line of the key at `path` (e.g. `["purposes", "marketing", "legal_basis"]`), or of
    /// the deepest part of the path that exists. Array elements are addressed by index.
    pub fn line_of_path(&self, path: &[&str]) -> Option<usize> {
        let root = DeTable::parse(&self.text).ok()?;
        let mut table: &DeTable<'_> = root.get_ref();
        let mut best: Option<usize> = None;
        let mut rest = path;
        while let Some((head, tail)) = rest.split_first() {
            let Some((key, value)) = table.iter().find(|(k, _)| k.get_ref().as_ref() == *head)
            else {
                return best;
            };
            best = Some(self.position(key.span().start).0);
            rest = tail;
            match value.get_ref() {
                DeValue::Table(inner) => table = inner,
                DeValue::Array(items) => {
                    if let Some((index, after)) = rest.split_first()
                        && let Ok(index) = index.parse::<usize>()
                        && let Some(item) = items.get(index)
                    {
                        best = Some(self.position(item.span().start).0);
                        rest = after;
                        if let DeValue::Table(inner) = item.get_ref() {
                            table = inner;
                            continue;
                        }
                    }
                    break;
                }
                _ => break,
            }
        }
        best
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_lines_of_nested_keys() {
        let text = "[a]\nx = 1\n\n[a.b]\ny = [\"p\", \"q\"]\nz = { w = 2 }\n";
        let map = SourceMap::new(text.to_owned());
        assert_eq!(map.line_of_path(&["a", "x"]), Some(2));
        assert_eq!(map.line_of_path(&["a", "b"]), Some(4));
        assert_eq!(map.line_of_path(&["a", "b", "y"]), Some(5));
        assert_eq!(map.line_of_path(&["a", "b", "z", "w"]), Some(6));
        assert_eq!(map.line_of_path(&["a", "missing"]), Some(1));
        assert_eq!(map.line_of_path(&["nothing"]), None);
        assert_eq!(map.position(0), (1, 1));
        assert_eq!(map.position(5), (2, 2));
    }
}
