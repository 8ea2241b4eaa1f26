//! The output language of the CLI: the catalogue's [`Lang`] (sqlexam-i18n), from `--lang`
//! or the locale.

pub use sqlexam_i18n::Lang;

/// Japanese when the locale (LC_ALL, then LC_MESSAGES, then LANG) says so.
pub fn from_env() -> Lang {
    if sqlexam_core::locale_is_japanese() {
        Lang::Ja
    } else {
        Lang::En
    }
}
