//! What every checked string type shares, written once.

/// For a `struct $name(String)` whose `FromStr` is its one checked constructor: `as_str`,
/// `TryFrom<String>` through that check (so `#[serde(try_from = "String")]` refuses what `parse`
/// refuses), `From<$name> for String` (for `#[serde(into = "String")]`) and `Display`.
macro_rules! string_newtype {
    ($name:ident, $err:ty) => {
        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = $err;
            fn try_from(s: String) -> Result<Self, Self::Error> {
                s.parse()
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> Self {
                value.0
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

pub(crate) use string_newtype;
