//! Putting a key where the spec's `x-auth` says: one rule for the request guard, the harness and
//! the tests.

use std::fmt;

use crate::extensions::{AuthInfo, AuthPlacement};

/// Where a request carries its key, and what it writes there. `Debug` shows no key.
#[derive(Clone, PartialEq, Eq)]
pub enum KeyPlacement<'a> {
    /// The header `name` with `value` (the `x-auth.prefix` and the key).
    Header {
        /// Header name.
        name: &'a str,
        /// Header value.
        value: String,
    },
    /// The top-level body field `name`, a JSON string `value` (the key).
    BodyField {
        /// Field name.
        name: &'a str,
        /// Field value.
        value: String,
    },
}

impl AuthInfo {
    /// Where `key` goes in a request, and what is written there.
    pub fn place(&self, key: &str) -> KeyPlacement<'_> {
        match self.placement {
            AuthPlacement::Header => KeyPlacement::Header {
                name: &self.name,
                value: format!("{}{key}", self.prefix),
            },
            AuthPlacement::Body => KeyPlacement::BodyField {
                name: &self.name,
                value: key.to_owned(),
            },
        }
    }
}

impl fmt::Debug for KeyPlacement<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (kind, name) = match self {
            KeyPlacement::Header { name, .. } => ("Header", name),
            KeyPlacement::BodyField { name, .. } => ("BodyField", name),
        };
        f.debug_struct(kind)
            .field("name", name)
            .field("value", &"[redacted]")
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Provider, Spec};

    fn place(provider: Provider, key: &str) -> KeyPlacement<'static> {
        Spec::embedded(provider).extensions().auth.place(key)
    }

    #[test]
    fn each_provider_gets_its_key_where_its_spec_says() {
        assert_eq!(
            place(Provider::named("gptproto"), "k"),
            KeyPlacement::Header {
                name: "Authorization",
                value: "k".into()
            }
        );
        assert_eq!(
            place(Provider::named("novita"), "k"),
            KeyPlacement::Header {
                name: "Authorization",
                value: "Bearer k".into()
            }
        );
        assert_eq!(
            place(Provider::named("modelslab"), "k"),
            KeyPlacement::BodyField {
                name: "key",
                value: "k".into()
            }
        );
    }

    #[test]
    fn debug_shows_no_key() {
        let shown = format!("{:?}", place(Provider::named("novita"), "sk-secret"));
        assert!(!shown.contains("sk-secret"), "{shown}");
        assert!(shown.contains("Authorization"), "{shown}");
    }
}
