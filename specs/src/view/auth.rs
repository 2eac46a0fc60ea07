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
#[path = "tests/auth.rs"]
mod tests;
