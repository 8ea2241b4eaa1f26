//! The output language of the CLI: English or Japanese.

/// A language sqlexam speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Lang {
    En,
    Ja,
}

impl Lang {
    /// Japanese when the locale (LC_ALL, then LC_MESSAGES, then LANG) says so.
    pub fn from_env() -> Lang {
        if sqlexam_core::locale_is_japanese() {
            Lang::Ja
        } else {
            Lang::En
        }
    }

    /// The same language for sqlexam-export's writers.
    pub fn export(self) -> sqlexam_export::Lang {
        match self {
            Lang::En => sqlexam_export::Lang::En,
            Lang::Ja => sqlexam_export::Lang::Ja,
        }
    }

    /// Picks the text for this language.
    pub fn pick<'a>(self, en: &'a str, ja: &'a str) -> &'a str {
        match self {
            Lang::En => en,
            Lang::Ja => ja,
        }
    }
}
