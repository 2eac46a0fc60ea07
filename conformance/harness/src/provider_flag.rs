//! The `--provider` flag of the harness's commands: the id of any spec in `specs/`, listed in the
//! help and in the refusal of an unknown id.

use clap::builder::{PossibleValuesParser, TypedValueParser};
use img2img_specs::Provider;

/// The parser of a `--provider` value: one of the discovered providers' ids.
pub fn parser() -> impl TypedValueParser<Value = Provider> {
    PossibleValuesParser::new(Provider::all().map(|p| p.id())).try_map(|id| id.parse::<Provider>())
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Debug, Parser)]
    struct Flags {
        #[arg(long, value_parser = parser())]
        provider: Vec<Provider>,
    }

    #[test]
    fn every_spec_is_a_value_and_an_unknown_id_is_refused_naming_them() {
        for provider in Provider::all() {
            let flags = Flags::try_parse_from(["t", "--provider", provider.id()]).unwrap();
            assert_eq!(flags.provider, [provider]);
        }
        let error = Flags::try_parse_from(["t", "--provider", "acme"])
            .unwrap_err()
            .to_string();
        assert!(error.contains("'acme'"), "{error}");
        for provider in Provider::all() {
            assert!(error.contains(provider.id()), "{error}");
        }
    }
}
