//! Reading the transcripts out of a Markdown page: every fenced block whose info string starts
//! with `console` (see `docs/README.md`, "How the docs are tested").

use std::path::{Path, PathBuf};

/// What the test does with a block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// `console`: every command is run and its output compared.
    Run,
    /// `console,live`: needs keys or the internet; shown, not run, reported skipped.
    Live,
    /// `console,ci`: too long for the test (the main job, the whole suite); `.ci/run` must run
    /// each command verbatim.
    Ci,
}

/// One `$ command` and the output shown under it.
#[derive(Debug, Clone)]
pub struct Command {
    /// The command as written (continuation lines included, without the `$ `).
    pub text: String,
    /// Whether it ends with `&`: it runs in the background for the rest of the block.
    pub background: bool,
    /// The output lines shown under it.
    pub expected: Vec<String>,
    /// The 0-based line range of those output lines in the page.
    pub expected_lines: std::ops::Range<usize>,
}

/// One `console` block of a page.
#[derive(Debug, Clone)]
pub struct Block {
    /// The page.
    pub page: PathBuf,
    /// The 1-based line of the opening fence.
    pub line: usize,
    /// What the test does with it.
    pub kind: Kind,
    /// Its commands, in order.
    pub commands: Vec<Command>,
}

impl Block {
    /// `README.md:42`.
    pub fn name(&self, root: &Path) -> String {
        format!(
            "{}:{}",
            self.page.strip_prefix(root).unwrap_or(&self.page).display(),
            self.line
        )
    }
}

/// Every `console` block of `text` (the page at `page`); an unknown attribute is an error.
pub fn blocks(page: &Path, text: &str) -> Result<Vec<Block>, String> {
    let lines: Vec<&str> = text.lines().collect();
    let mut blocks = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let Some(fence) = fence_of(line) else {
            i += 1;
            continue;
        };
        let info = line.trim_start()[fence.len()..].trim();
        let end = (i + 1..lines.len())
            .find(|&j| lines[j].trim_start().starts_with(fence) && lines[j].trim() == fence)
            .ok_or_else(|| format!("{}:{}: unclosed code fence", page.display(), i + 1))?;
        let mut parts = info.split(',').map(str::trim);
        if parts.next() == Some("console") {
            let mut kind = Kind::Run;
            for attribute in parts {
                kind = match attribute {
                    "live" => Kind::Live,
                    "ci" => Kind::Ci,
                    other => {
                        return Err(format!(
                            "{}:{}: unknown console attribute {other:?} (known: live, ci)",
                            page.display(),
                            i + 1
                        ));
                    }
                };
            }
            blocks.push(Block {
                page: page.to_path_buf(),
                line: i + 1,
                kind,
                commands: commands(page, &lines, i + 1, end)?,
            });
        }
        i = end + 1;
    }
    Ok(blocks)
}

/// The fence that opens a code block on `line` (three or more backticks), if it does.
fn fence_of(line: &str) -> Option<&str> {
    let trimmed = line.trim_start();
    let ticks = trimmed.len() - trimmed.trim_start_matches('`').len();
    (ticks >= 3).then(|| &trimmed[..ticks])
}

/// The commands of the block whose content is `lines[start..end]`.
fn commands(page: &Path, lines: &[&str], start: usize, end: usize) -> Result<Vec<Command>, String> {
    let mut commands: Vec<Command> = Vec::new();
    let mut j = start;
    while j < end {
        let line = lines[j];
        if let Some(first) = line.strip_prefix("$ ") {
            let mut text = first.to_owned();
            while text.ends_with('\\') && j + 1 < end {
                j += 1;
                text.push('\n');
                text.push_str(lines[j]);
            }
            let trimmed = text.trim_end();
            let background = trimmed.ends_with('&') && !trimmed.ends_with("&&");
            let text = if background {
                trimmed.trim_end_matches('&').trim_end().to_owned()
            } else {
                text
            };
            commands.push(Command {
                text,
                background,
                expected: Vec::new(),
                expected_lines: j + 1..j + 1,
            });
        } else {
            let Some(command) = commands.last_mut() else {
                return Err(format!(
                    "{}:{}: a console block must start with a `$ ` command",
                    page.display(),
                    j + 1
                ));
            };
            command.expected.push(line.to_owned());
            command.expected_lines.end = j + 1;
        }
        j += 1;
    }
    Ok(commands)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_commands_continuations_backgrounds_and_outputs() {
        let page = Path::new("p.md");
        let text = "intro\n```console\n$ server --port 8080 &\nlistening\n$ curl a \\\n    -d b\n{}\n\n$ true\n```\n```sh\n$ not a transcript\n```\n```console,live\n$ paid\n```\n";
        let blocks = blocks(page, text).unwrap();
        assert_eq!(blocks.len(), 2);
        let run = &blocks[0];
        assert_eq!((run.line, run.kind.clone()), (2, Kind::Run));
        assert_eq!(run.commands.len(), 3);
        assert!(run.commands[0].background);
        assert_eq!(run.commands[0].text, "server --port 8080");
        assert_eq!(run.commands[0].expected, ["listening"]);
        assert_eq!(run.commands[1].text, "curl a \\\n    -d b");
        assert_eq!(run.commands[1].expected, ["{}", ""]);
        assert_eq!(run.commands[1].expected_lines, 6..8);
        assert!(run.commands[2].expected.is_empty());
        assert_eq!(blocks[1].kind, Kind::Live);
        assert!(super::blocks(page, "```console,slow\n$ x\n```\n").is_err());
        assert!(super::blocks(page, "```console\nno command\n```\n").is_err());
    }
}
