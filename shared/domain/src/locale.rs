//! The locales a store can write to its shoppers in: a closed list of BCP 47 tags, each one whose
//! number and date conventions nanoshop knows (the notifications function formats money and dates
//! by them). A tag outside the list is refused rather than guessed at: a store in `pt-BR` would
//! otherwise get German separators or English month names without noticing.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A supported locale. `en-US` when a store has not chosen one.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize, schemars::JsonSchema,
)]
pub enum Locale {
    #[default]
    #[serde(rename = "en-US")]
    EnUs,
    #[serde(rename = "en-GB")]
    EnGb,
    #[serde(rename = "de-DE")]
    DeDe,
    #[serde(rename = "fr-FR")]
    FrFr,
    #[serde(rename = "nl-NL")]
    NlNl,
    #[serde(rename = "es-ES")]
    EsEs,
    #[serde(rename = "it-IT")]
    ItIt,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be one of the supported locales: en-US, en-GB, de-DE, fr-FR, nl-NL, es-ES, it-IT")]
pub struct UnsupportedLocale;

impl Locale {
    pub const ALL: [Locale; 7] =
        [Locale::EnUs, Locale::EnGb, Locale::DeDe, Locale::FrFr, Locale::NlNl, Locale::EsEs, Locale::ItIt];

    /// The canonical tag (`de-DE`).
    pub fn tag(self) -> &'static str {
        match self {
            Locale::EnUs => "en-US",
            Locale::EnGb => "en-GB",
            Locale::DeDe => "de-DE",
            Locale::FrFr => "fr-FR",
            Locale::NlNl => "nl-NL",
            Locale::EsEs => "es-ES",
            Locale::ItIt => "it-IT",
        }
    }

    /// The language alone (`de`), for an HTML document's `lang`.
    pub fn language(self) -> &'static str {
        self.tag().split('-').next().unwrap_or("en")
    }
}

impl FromStr for Locale {
    type Err = UnsupportedLocale;

    /// Only the canonical spelling (`de-DE`): BCP 47 compares tags ignoring case, but one
    /// spelling keeps the API's schema (an enum of these tags) exactly what is accepted.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Locale::ALL.into_iter().find(|l| l.tag() == s).ok_or(UnsupportedLocale)
    }
}

impl fmt::Display for Locale {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.tag())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_supported_tag_parses_to_itself() {
        for locale in Locale::ALL {
            assert_eq!(locale.tag().parse(), Ok(locale));
            assert_eq!(serde_json::to_value(locale).ok(), Some(serde_json::json!(locale.tag())));
        }
    }

    #[test]
    fn unsupported_or_malformed_tags_are_refused() {
        for bad in ["", "en", "de_DE", "de-de", " de-DE", "pt-BR", "en-US-x-twain", "de-AT"] {
            assert_eq!(bad.parse::<Locale>(), Err(UnsupportedLocale), "{bad}");
        }
    }
}
