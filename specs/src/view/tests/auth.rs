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
