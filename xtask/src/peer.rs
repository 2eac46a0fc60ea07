//! The peer check's schemathesis configuration for one spec (`cargo xtask peer-config DIR`, run by
//! `conformance/peer-check.sh`): the entries of `conformance/schemathesis.toml` (the exceptions
//! judged by hand, each with its reason) that name one of the spec's operations or paths, plus what
//! the spec itself says:
//!
//! - the key, where `x-auth` puts it: a header (`headers`, with its prefix) or a body field
//!   (`[parameters]`), its value read by schemathesis from `PEER_CHECK_API_KEY`;
//! - `positive_data_acceptance` off on every operation whose request may carry an image
//!   (`x-media: image`): such a field must decode as an image, which JSON Schema cannot say, so
//!   schemathesis' schema-valid strings are refused by the emulators as by the providers. The
//!   harness's own `positive_acceptance` puts real images there;
//! - `negative_data_rejection` off on every operation whose request schema the spec widens with
//!   `x-accepting` (the provider takes more than the schema as written says, and schemathesis reads
//!   only the latter); the harness's own `negative_rejection` breaks the accepting reading;
//! - `missing_required_header` and `ignored_auth` off where the provider answers a missing key with
//!   neither 401 nor 403 (`x-emulator.answers.statuses.missing_key`, such as a documented 400),
//!   which schemathesis cannot be told; the harness's `auth_enforcement` holds
//!   the target to the spec's status.

use img2img_specs::extensions::{AuthPlacement, Cause};
use img2img_specs::{Operation, Reading, Spec, carries_media};
use toml_edit::{ArrayOfTables, DocumentMut, InlineTable, Item, Table, TomlError, value};

/// The variable schemathesis reads the key from.
pub const KEY_VARIABLE: &str = "PEER_CHECK_API_KEY";

/// The configuration for `spec`: `base` (the hand-kept file's text) with the entries that apply to
/// it, its key placement and its image-carrying operations. `Err` when `base` is not TOML.
pub fn schemathesis_config(spec: &Spec, base: &str) -> Result<String, TomlError> {
    let mut document: DocumentMut = base.parse()?;
    let ext = spec.extensions();
    document.decor_mut().set_prefix(format!(
        "# Written by `cargo xtask peer-config` for specs/{}.yaml from conformance/schemathesis.toml\n\
         # (the entries naming its operations), its x-auth and its operations that carry images.\n\n",
        ext.provider.id
    ));
    let mut operations = match document.remove("operations") {
        Some(Item::ArrayOfTables(operations)) => operations,
        _ => ArrayOfTables::new(),
    };
    operations.retain(|entry| names_an_operation_of(spec, entry));
    // An entry's comment is the paragraph above it (the file's own header comment, above the
    // first entry, stays behind).
    for entry in operations.iter_mut() {
        let prefix = entry
            .decor()
            .prefix()
            .and_then(|p| p.as_str())
            .unwrap_or("");
        let reason = prefix
            .trim_end()
            .rsplit("\n\n")
            .next()
            .unwrap_or("")
            .trim_start();
        let reason = format!("\n{reason}\n");
        entry.decor_mut().set_prefix(reason);
    }

    let auth = &ext.auth;
    let key = format!("${{{KEY_VARIABLE}}}");
    match auth.placement {
        AuthPlacement::Header => {
            let mut headers = InlineTable::new();
            headers.insert(&auth.name, format!("{}{key}", auth.prefix).into());
            document["headers"] = value(headers);
        }
        AuthPlacement::Body => {
            let mut parameters = Table::new();
            parameters.insert(&format!("body.{}", auth.name), value(key));
            parameters.decor_mut().set_prefix(format!(
                "# x-auth: the key travels in the body field {:?}.\n",
                auth.name
            ));
            document["parameters"] = Item::Table(parameters);
        }
    }

    if let Some(status) = missing_key_status(spec).filter(|s| *s != 401 && *s != 403) {
        let mut checks = Table::new();
        for (i, check) in ["missing_required_header", "ignored_auth"]
            .into_iter()
            .enumerate()
        {
            let mut entry = Table::new();
            entry.insert("enabled", value(false));
            if i == 0 {
                entry.decor_mut().set_prefix(format!(
                    "\n# A missing key is answered {status}, not 401 or 403 \
                     (x-emulator.answers.statuses), which these checks cannot be told.\n"
                ));
            }
            checks.insert(check, Item::Table(entry));
        }
        checks.set_implicit(true);
        document.insert("checks", Item::Table(checks));
    }

    for operation in spec.operations() {
        if accepts_more(spec, &operation.id) {
            operations.push(check_off(
                operation,
                "x-accepting widens its request schema; schemathesis reads it as written",
                "negative_data_rejection",
            ));
        }
        let carries = spec
            .request_schema(&operation.id)
            .and_then(Result::ok)
            .is_some_and(|schema| carries_media(schema.schema()));
        if carries {
            operations.push(check_off(
                operation,
                "its request carries an image (x-media), which must decode",
                "positive_data_acceptance",
            ));
        }
    }
    document.insert("operations", Item::ArrayOfTables(operations));
    Ok(document.to_string())
}

/// The status the provider answers a request without a key with, as the spec's emulator answers.
fn missing_key_status(spec: &Spec) -> Option<u16> {
    let answers = spec.extensions().emulator.as_ref()?.answers.as_ref()?;
    answers.status(Cause::MissingKey)
}

/// Whether the accepting reading of operation `id`'s request schema differs from the schema as
/// written (`x-accepting` somewhere in it).
fn accepts_more(spec: &Spec, id: &str) -> bool {
    let read = |reading| {
        spec.request_schema_as(id, reading)
            .and_then(Result::ok)
            .map(|schema| schema.schema().clone())
    };
    read(Reading::Sending) != read(Reading::Accepting)
}

/// Whether a hand-kept `[[operations]]` entry names an operation (`include-operation-id`) or a
/// path (`include-path`) of `spec`; an entry naming neither applies to every spec.
fn names_an_operation_of(spec: &Spec, entry: &Table) -> bool {
    let named = |key: &str| entry.get(key).and_then(Item::as_str);
    match (named("include-operation-id"), named("include-path")) {
        (Some(id), _) => spec.operation(id).is_some(),
        (None, Some(path)) => spec.operations().iter().any(|op| op.path == path),
        (None, None) => true,
    }
}

/// `outer.inner = flag` written as dotted keys.
/// An `[[operations]]` entry turning `check` off for `operation`, with `why` as its comment.
fn check_off(operation: &Operation, why: &str, check: &str) -> Table {
    let mut entry = Table::new();
    entry.decor_mut().set_prefix(format!(
        "\n# {} {}: {why}.\n",
        operation.method, operation.path
    ));
    entry.insert("include-operation-id", value(&operation.id));
    entry.insert("checks", dotted(check, "enabled", false));
    entry
}

fn dotted(outer: &str, inner: &str, flag: bool) -> Item {
    let mut leaf = Table::new();
    leaf.set_dotted(true);
    leaf.insert(inner, value(flag));
    let mut middle = Table::new();
    middle.set_dotted(true);
    middle.insert(outer, Item::Table(leaf));
    Item::Table(middle)
}

#[cfg(test)]
mod tests {
    use img2img_specs::{Provider, Spec};

    use super::*;

    const BASE: &str = "# base\n\n# a hand-judged exception\n[[operations]]\ninclude-path = \"/nowhere\"\nchecks.negative_data_rejection.enabled = false\n";

    #[test]
    fn the_key_goes_where_x_auth_says_and_every_create_keeps_its_image_exception() {
        for provider in Provider::all() {
            let spec = Spec::embedded(provider);
            let text = schemathesis_config(spec, BASE).unwrap();
            let config: DocumentMut = text.parse().unwrap();
            let auth = &spec.extensions().auth;
            let expected = format!("{}${{{KEY_VARIABLE}}}", auth.prefix);
            match auth.placement {
                AuthPlacement::Header => {
                    let header = config["headers"][auth.name.as_str()].as_str();
                    assert_eq!(header, Some(expected.as_str()), "{provider}: {text}");
                    assert!(config.get("parameters").is_none(), "{provider}: {text}");
                }
                AuthPlacement::Body => {
                    let field = format!("body.{}", auth.name);
                    let parameter = config["parameters"][field.as_str()].as_str();
                    assert_eq!(parameter, Some(expected.as_str()), "{provider}: {text}");
                    assert!(config.get("headers").is_none(), "{provider}: {text}");
                }
            }
            let entries = config["operations"].as_array_of_tables().unwrap();
            for family in spec.extensions().job.families() {
                let enabled = entries
                    .iter()
                    .filter(|e| e["include-operation-id"].as_str() == Some(&family.create))
                    .find_map(|e| {
                        e.get("checks")
                            .and_then(|c| c.get("positive_data_acceptance"))
                            .and_then(|c| c.get("enabled"))
                            .and_then(Item::as_bool)
                    });
                assert_eq!(enabled, Some(false), "{provider}: {text}");
            }
            // The hand-kept entry names a path no spec has: it is left out.
            assert!(!text.contains("/nowhere"), "{provider}: {text}");
            // An operation the spec widens with x-accepting is not held to refusing what the
            // schema as written rules out; every other one is.
            for operation in spec.operations() {
                let off = entries.iter().any(|e| {
                    let enabled = e
                        .get("checks")
                        .and_then(|c| c.get("negative_data_rejection"))
                        .and_then(|c| c.get("enabled"))
                        .and_then(Item::as_bool);
                    e.get("include-operation-id").and_then(Item::as_str)
                        == Some(operation.id.as_str())
                        && enabled == Some(false)
                });
                assert_eq!(
                    off,
                    accepts_more(spec, &operation.id),
                    "{provider} {}",
                    operation.id
                );
            }
            // The auth checks are off exactly where a missing key is answered with neither
            // 401 nor 403.
            let status = missing_key_status(spec);
            let off = config
                .get("checks")
                .and_then(|c| c.get("ignored_auth"))
                .and_then(|c| c.get("enabled"))
                .and_then(Item::as_bool)
                == Some(false);
            assert_eq!(
                off,
                status.is_some_and(|s| s != 401 && s != 403),
                "{provider}: {text}"
            );
        }
    }

    #[test]
    fn a_hand_kept_entry_stays_for_the_spec_whose_operation_it_names() {
        for provider in Provider::all() {
            let spec = Spec::embedded(provider);
            let path = &spec.operations()[0].path;
            let base = BASE.replace("/nowhere", path);
            let text = schemathesis_config(spec, &base).unwrap();
            assert!(
                text.contains("\n# a hand-judged exception\n[[operations]]"),
                "{text}"
            );
            assert!(!text.contains("# base"), "{text}");
            assert!(
                text.contains(&format!("include-path = \"{path}\"")),
                "{text}"
            );
        }
        assert!(schemathesis_config(Spec::embedded(Provider::all().next().unwrap()), "[").is_err());
    }
}
