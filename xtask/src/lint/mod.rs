//! `cargo xtask lint`: every spec against the rules of `specs/README.md`.

mod answers;
mod parity;
mod rules;
mod test_mode;

use img2img_specs::Provider;
use rules::{Finding, lint};

use xtask::project;

/// Lints every spec and returns the findings per spec file.
pub fn findings() -> anyhow::Result<Vec<(String, Vec<Finding>)>> {
    Provider::all()
        .map(|provider| {
            let (_, spec) = project::load_spec(provider)?;
            let mut findings = lint(&spec);
            let id = &spec.extensions().provider.id;
            if id != provider.id() {
                findings.push(Finding {
                    pointer: "/x-provider/id".to_owned(),
                    message: format!(
                        "{id:?} must be the spec file's name without `.yaml`: {:?}",
                        provider.id()
                    ),
                });
            }
            if let Some(problem) = id_problem(provider.id()) {
                findings.push(Finding {
                    pointer: "/x-provider/id".to_owned(),
                    message: format!("the file name {:?} {problem}", provider.spec_file()),
                });
            }
            Ok((format!("specs/{}", provider.spec_file()), findings))
        })
        .collect()
}

/// What is wrong with a provider id as the name of its generated crate's folder
/// (`generated/<id>/`) and crate (`img2img-<id>-client`), if anything.
fn id_problem(id: &str) -> Option<String> {
    let first_is_letter = id.chars().next().is_some_and(|c| c.is_ascii_lowercase());
    let allowed = id
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if !first_is_letter || !allowed {
        return Some(
            "must start with a lower-case letter and hold only lower-case letters, digits, `-` and \
             `_`: the id names the generated crate"
                .to_owned(),
        );
    }
    (id == project::REGISTRY).then(|| {
        format!(
            "takes the id {id:?} of the registry crate (`{}/{id}/`): choose another file name",
            project::GENERATED
        )
    })
}

/// Prints every finding; fails if there is any.
pub fn run() -> anyhow::Result<()> {
    let mut total = 0;
    for (file, findings) in findings()? {
        for finding in &findings {
            println!("{file}{finding}");
        }
        total += findings.len();
    }
    if total > 0 {
        anyhow::bail!("{total} lint finding(s) in specs/");
    }
    println!("specs/: no lint findings");
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_id_must_name_a_crate_and_not_the_registry() {
        assert_eq!(super::id_problem("acme"), None);
        assert_eq!(super::id_problem("black-forest_labs2"), None);
        let registry = super::id_problem("registry").unwrap();
        assert!(registry.contains("generated/registry/"), "{registry}");
        for bad in ["Acme", "2acme", "ac me", "acme.v2", ""] {
            assert!(super::id_problem(bad).is_some(), "{bad:?}");
        }
    }

    #[test]
    fn specs_pass_the_lint() {
        let report: Vec<String> = super::findings()
            .unwrap()
            .into_iter()
            .flat_map(|(file, findings)| findings.into_iter().map(move |f| format!("{file}{f}")))
            .collect();
        assert!(
            report.is_empty(),
            "spec lint findings:\n{}",
            report.join("\n")
        );
    }
}
