//! The command line: `cargo xtask diff OLD NEW | --rev REV [FILE] [--format text|md|json]
//! [--fail-on breaking|any]`, `cargo xtask diff --against THEIRS [OURS | --provider ID]
//! [--format text|md|json] [--save [FILE]]`, and the summary `cargo xtask codegen` prints.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use img2img_specs::Provider;

use super::classify::Class;
use super::load::{self, Version};
use super::parity;
use super::render::{self, Diff};
use crate::project;

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Plain text for a terminal.
    Text,
    /// Markdown for a pull-request comment.
    Md,
    /// JSON for tools.
    Json,
}

/// Which changes make the command exit 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FailOn {
    /// Only breaking changes.
    Breaking,
    /// Any change at all.
    Any,
}

/// Arguments of `cargo xtask diff`.
#[derive(Debug, clap::Args)]
pub struct DiffArgs {
    /// The old spec file. With --rev: the spec to compare with its version at REV (a path, or a
    /// provider id, `specs/<id>.yaml`); omitted, every spec in specs/ is compared. With --against:
    /// our spec (a path, or a provider id).
    pub old: Option<PathBuf>,
    /// The new spec file. With --rev it defaults to the working-tree file.
    pub new: Option<PathBuf>,
    /// Compare our spec with the provider's own published spec at THEIRS (OpenAPI 3.0 or 3.1,
    /// JSON or YAML), field by field. Exit 1 when a difference is open (not kept on purpose
    /// with `x-parity`).
    #[arg(long, value_name = "THEIRS", conflicts_with_all = ["rev", "new", "fail_on"])]
    pub against: Option<PathBuf>,
    /// With --against: our spec is specs/<ID>.yaml.
    #[arg(long, value_name = "ID", requires = "against", conflicts_with = "old")]
    pub provider: Option<Provider>,
    /// With --against: merge the counts per operation into FILE for `cargo xtask report`
    /// (default: target/conformance/parity.json).
    #[arg(long, value_name = "FILE", requires = "against", num_args = 0..=1,
          default_missing_value = super::parity::DEFAULT_RECORD)]
    pub save: Option<PathBuf>,
    /// Read the old version from this git revision (`git show REV:./specs/<file>`).
    #[arg(long, value_name = "GITREV")]
    pub rev: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Exit 1 when a change of this class is found.
    #[arg(long, value_enum, default_value_t = FailOn::Breaking)]
    pub fail_on: FailOn,
}

/// Compares two versions of a spec, each labelled with where it came from.
fn diff(old: &Version, new: &Version) -> anyhow::Result<Diff> {
    let (a, b) = (old.parse()?, new.parse()?);
    let changes = super::compare_specs(&a, &b)
        .map_err(|e| anyhow::anyhow!("comparing {} with {}: {e}", old.label, new.label))?;
    Ok(Diff {
        old: old.label.clone(),
        new: new.label.clone(),
        changes,
    })
}

/// Runs `cargo xtask diff`; `Err` means a usage or IO error (exit 2).
pub fn run(args: DiffArgs) -> anyhow::Result<ExitCode> {
    let root = project::root();
    if let Some(theirs) = &args.against {
        return against(&root, theirs, &args);
    }
    let pairs: Vec<(Version, Version)> = match (&args.rev, &args.old, &args.new) {
        (None, Some(old), Some(new)) => vec![(load::file(old)?, load::file(new)?)],
        (None, _, _) => bail!(
            "give two spec files (`cargo xtask diff OLD NEW`), or a git revision (`cargo xtask diff --rev REV [FILE]`)"
        ),
        (Some(rev), None, _) => every_spec(&root, rev)?,
        (Some(rev), Some(file), new) => {
            let file = load::spec_argument(&root, file);
            let relative = load::relative_to_root(&root, &file)?;
            let new = match new {
                Some(new) => load::file(new)?,
                None => Version {
                    label: relative.clone(),
                    ..load::file(&file)?
                },
            };
            vec![(load::at_rev(&root, rev, &relative)?, new)]
        }
    };
    let diffs = pairs
        .iter()
        .map(|(old, new)| diff(old, new))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let output = match args.format {
        Format::Text => render::text(&diffs),
        Format::Md => render::markdown(&diffs),
        Format::Json => render::json(&diffs),
    };
    print!("{output}");
    let fails = diffs.iter().any(|d| match args.fail_on {
        FailOn::Breaking => d.count(Class::Breaking) > 0,
        FailOn::Any => !d.changes.is_empty(),
    });
    Ok(if fails {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// `--against THEIRS`: our spec against the provider's published one; exit 1 when a field is open.
fn against(root: &Path, theirs: &Path, args: &DiffArgs) -> anyhow::Result<ExitCode> {
    let ours = match (&args.provider, &args.old) {
        (Some(provider), _) => root.join("specs").join(provider.spec_file()),
        (None, Some(file)) => load::spec_argument(root, file),
        (None, None) => bail!(
            "name our spec: `cargo xtask diff --against THEIRS OURS.yaml`, or `--provider ID` (one of {})",
            Provider::known()
        ),
    };
    let version = load::file(&ours)?;
    let label = match load::relative_to_root(root, &ours) {
        Ok(relative) => relative,
        Err(_) => version.label.clone(),
    };
    let spec = version.parse()?;
    let published = parity::Published::load(theirs)?;
    let report = parity::compare(&spec, &label, &published)?;
    let output = match args.format {
        Format::Text => parity::text(&report),
        Format::Md => parity::markdown(&report),
        Format::Json => parity::json(&report),
    };
    print!("{output}");
    if let Some(file) = &args.save {
        let file = if file.is_absolute() || file.as_os_str() == parity::DEFAULT_RECORD {
            root.join(file)
        } else {
            std::env::current_dir()
                .context("cannot read the current directory")?
                .join(file)
        };
        let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        parity::record(&report, &published.file_name(), &file, &now)?;
        eprintln!("saved the counts in {}", file.display());
    }
    Ok(if report.counts.open > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Every spec of `specs/`, at `rev` and in the working tree, paired: a spec on one side only is
/// compared with an empty one, so it shows as every operation added (or removed).
fn every_spec(root: &std::path::Path, rev: &str) -> anyhow::Result<Vec<(Version, Version)>> {
    let then = load::specs_at_rev(root, rev)?;
    let now = load::specs_on_disk(root)?;
    let mut paths: Vec<&String> = then.iter().chain(&now).collect();
    paths.sort();
    paths.dedup();
    paths
        .into_iter()
        .map(|path| {
            let old = then
                .contains(path)
                .then(|| load::at_rev(root, rev, path))
                .transpose()?;
            let new = now
                .contains(path)
                .then(|| load::file(&root.join(path)))
                .transpose()?
                .map(|version| Version {
                    label: path.clone(),
                    ..version
                });
            Ok(match (old, new) {
                (Some(old), Some(new)) => (old, new),
                (None, Some(new)) => (load::absent(&new, format!("{rev}:{path} (absent)"))?, new),
                (Some(old), None) => {
                    let new = load::absent(&old, format!("{path} (absent)"))?;
                    (old, new)
                }
                (None, None) => unreachable!("every path comes from one side"),
            })
        })
        .collect()
}

/// The text summary of what changed in `provider`'s spec since `HEAD`, for `cargo xtask codegen`;
/// `None` when nothing changed or git (or `HEAD`) is unavailable.
pub fn summary_since_head(provider: Provider, current: &str) -> Option<String> {
    let root = project::root();
    let path = format!("specs/{}", provider.spec_file());
    let old = load::at_rev(&root, "HEAD", &path).ok()?;
    if old.text == current {
        return None;
    }
    let new = Version {
        label: path,
        text: current.to_owned(),
    };
    match diff(&old, &new) {
        Ok(diff) if diff.changes.is_empty() => None,
        Ok(diff) => Some(render::text(&[diff])),
        Err(error) => Some(format!("(no spec diff: {error:#})\n")),
    }
}
