//! The providers this project knows: one per spec file `specs/<id>.yaml`, discovered at build time.

use std::fmt;
use std::str::FromStr;

/// One spec file found in `specs/` when this crate was built.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Entry {
    /// The file stem: `acme` for `specs/acme.yaml`.
    pub id: &'static str,
    /// The file name inside `specs/`.
    pub file: &'static str,
    /// The spec text.
    pub yaml: &'static str,
}

include!(concat!(env!("OUT_DIR"), "/registry.rs"));

/// An image-to-image provider: the id of one spec in `specs/` (`specs/<id>.yaml`).
///
/// Providers are discovered, not enumerated: adding `specs/acme.yaml` adds the provider `acme`.
/// [`Provider::all`] lists them in the order of their ids.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Provider(u16);

impl Provider {
    /// Every provider, in the order of their ids.
    pub fn all() -> impl ExactSizeIterator<Item = Provider> + Clone {
        (0..ENTRIES.len()).map(|index| Provider(index as u16))
    }

    /// The provider whose spec is `specs/<id>.yaml`.
    pub fn from_id(id: &str) -> Result<Provider, UnknownProvider> {
        ENTRIES
            .iter()
            .position(|entry| entry.id == id)
            .map(|index| Provider(index as u16))
            .ok_or_else(|| UnknownProvider(id.to_owned()))
    }

    /// The provider with this id, for tests and examples that name one.
    ///
    /// # Panics
    /// If `specs/` holds no `<id>.yaml`.
    pub fn named(id: &str) -> Provider {
        Provider::from_id(id).unwrap_or_else(|e| panic!("{e}"))
    }

    /// The ids of every provider, comma-separated (for messages and help texts).
    pub fn known() -> String {
        ENTRIES
            .iter()
            .map(|entry| entry.id)
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn entry(self) -> &'static Entry {
        &ENTRIES[usize::from(self.0)]
    }

    /// The index of this provider in [`Provider::all`].
    pub fn index(self) -> usize {
        usize::from(self.0)
    }

    /// The short id used in file names, crate names, flags and reports.
    pub fn id(self) -> &'static str {
        self.entry().id
    }

    /// The spec's file name inside `specs/`.
    pub fn spec_file(self) -> &'static str {
        self.entry().file
    }

    /// The spec text embedded at build time.
    pub fn embedded_yaml(self) -> &'static str {
        self.entry().yaml
    }
}

impl fmt::Debug for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Provider({})", self.id())
    }
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

impl serde::Serialize for Provider {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.id())
    }
}

impl<'de> serde::Deserialize<'de> for Provider {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let id = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Provider::from_id(&id).map_err(serde::de::Error::custom)
    }
}

/// The error for a provider id with no spec in `specs/`; it names the known ones.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown provider {0:?}: expected one of {known} (the specs in specs/)", known = Provider::known())]
pub struct UnknownProvider(pub String);

impl FromStr for Provider {
    type Err = UnknownProvider;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Provider::from_id(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_spec_file_is_a_provider_and_ids_round_trip() {
        assert!(Provider::all().len() >= 3);
        for provider in Provider::all() {
            assert_eq!(provider.id().parse::<Provider>(), Ok(provider));
            assert_eq!(provider.spec_file(), format!("{}.yaml", provider.id()));
            let json = serde_json::to_string(&provider).unwrap();
            assert_eq!(serde_json::from_str::<Provider>(&json).unwrap(), provider);
        }
    }

    #[test]
    fn an_unknown_id_is_refused_naming_the_known_ones() {
        let error = "acme".parse::<Provider>().unwrap_err().to_string();
        assert!(
            error.starts_with("unknown provider \"acme\": expected one of "),
            "{error}"
        );
        for provider in Provider::all() {
            assert!(error.contains(provider.id()), "{error}");
        }
    }
}
