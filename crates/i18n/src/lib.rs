//! Every sentence sqlexam shows a person, in English and Japanese. The catalogue is one
//! JSON file per language (`locales/en.json`, `locales/ja.json`): the desktop app and the
//! dashboard read them as they are; here they are compiled in, each key a constant of
//! [`k`], so a misspelt key does not build and neither does a language that lacks one.
//!
//! A text may fill in values (`{name}`), and may have plural forms chosen by the value
//! `n` (`{"one": "{n} row", "other": "{n} rows"}`; Japanese has one form).

#![forbid(unsafe_code)]

use std::fmt::Display;

/// A language sqlexam speaks.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, Hash, serde::Serialize, serde::Deserialize,
)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    #[default]
    En,
    Ja,
}

/// A key of the catalogue (see [`k`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key(usize);

enum Text {
    Plain(&'static str),
    Plural {
        one: &'static str,
        other: &'static str,
    },
}

include!(concat!(env!("OUT_DIR"), "/catalogue.rs"));

impl Key {
    /// The key as written in the catalogue (`export.candidate_id`).
    pub fn name(self) -> &'static str {
        NAMES[self.0]
    }
}

impl Lang {
    pub fn parse(code: &str) -> Option<Lang> {
        match code {
            "en" => Some(Lang::En),
            "ja" => Some(Lang::Ja),
            _ => None,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Ja => "ja",
        }
    }

    fn entry(self, key: Key) -> &'static Text {
        match self {
            Lang::En => &EN[key.0],
            Lang::Ja => &JA[key.0],
        }
    }

    /// The text of `key` (a plural text's `other` form) as it is, placeholders and all.
    pub fn text(self, key: Key) -> &'static str {
        match self.entry(key) {
            Text::Plain(s) => s,
            Text::Plural { other, .. } => other,
        }
    }

    /// The text of `key` with each `{name}` filled in from `values`; a plural text takes
    /// its form from the value named `n` (English: `one` for 1).
    pub fn fill(self, key: Key, values: &[(&str, &dyn Display)]) -> String {
        let template = match self.entry(key) {
            Text::Plain(s) => s,
            Text::Plural { one, other } => {
                let n = values
                    .iter()
                    .find(|(name, _)| *name == "n")
                    .map(|(_, v)| v.to_string());
                if self == Lang::En && n.as_deref() == Some("1") {
                    one
                } else {
                    other
                }
            }
        };
        let mut out = String::with_capacity(template.len());
        let mut rest = *template;
        while let Some(open) = rest.find('{') {
            out.push_str(&rest[..open]);
            let after = &rest[open + 1..];
            match after.find('}') {
                Some(close) => {
                    let name = &after[..close];
                    match values.iter().find(|(n, _)| *n == name) {
                        Some((_, value)) => out.push_str(&value.to_string()),
                        None => {
                            out.push('{');
                            out.push_str(name);
                            out.push('}');
                        }
                    }
                    rest = &after[close + 1..];
                }
                None => {
                    out.push_str(&rest[open..]);
                    rest = "";
                }
            }
        }
        out.push_str(rest);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_has_a_text_in_both_languages() {
        assert_eq!(EN.len(), JA.len());
        for (i, name) in NAMES.iter().enumerate() {
            for lang in [Lang::En, Lang::Ja] {
                assert!(
                    !lang.text(Key(i)).trim().is_empty(),
                    "{name} is empty in {lang:?}"
                );
            }
        }
    }

    #[test]
    fn values_are_filled_in_and_english_plurals_follow_n() {
        assert_eq!(Lang::En.fill(k::N__ROWS, &[("n", &1)]), "1 row");
        assert_eq!(Lang::En.fill(k::N__ROWS, &[("n", &3)]), "3 rows");
        assert_eq!(Lang::Ja.fill(k::N__ROWS, &[("n", &1)]), "1 行");
        assert_eq!(
            Lang::En.fill(k::N__SCORE, &[("score", &40), ("max", &100)]),
            "40 / 100 points"
        );
        assert_eq!(k::N__ROWS.name(), "n.rows");
    }
}
