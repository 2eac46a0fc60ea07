//! `cargo xtask lint`: every spec against the rules of `specs/README.md`.

mod answers;
mod rules;

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
            Ok((format!("specs/{}", provider.spec_file()), findings))
        })
        .collect()
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
