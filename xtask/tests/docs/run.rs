//! Running one block: its commands in order in one `bash`, in a scratch directory of its own,
//! background commands (`&`) kept running until the block ends, `8080` replaced by a free port.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command as Process, Stdio};
use std::time::{Duration, Instant};

use super::transcript::Block;

/// The port the docs write; each block gets a free one in its place.
pub const DOCS_PORT: &str = "8080";
/// The longest one block may run.
const BLOCK_TIME_LIMIT: Duration = Duration::from_secs(90);
/// How long a background command may take to print its first line.
const READY_WITHIN_SECS: u32 = 30;

/// What one command of a block printed and how it ended.
#[derive(Debug, Clone)]
pub struct Ran {
    /// stdout and stderr as they came (a background command: everything it printed in the block).
    pub output: String,
    /// The exit status (`None` for a background command).
    pub status: Option<i32>,
}

/// Where a block runs and what it finds there.
#[derive(Debug, Clone)]
pub struct Setting {
    /// The workspace root.
    pub root: PathBuf,
    /// The cargo profile directory with the built commands (`target/debug`).
    pub profile: PathBuf,
    /// Where scratch directories go (inside the workspace, so cargo finds it from there).
    pub scratch_root: PathBuf,
    /// Directories put first on `PATH` (a Python with `requests`).
    pub extra_path: Vec<PathBuf>,
}

/// A free loopback port.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// The scratch directory of a block: the repository's top-level folders linked in (read them,
/// never write them), `target/debug` linked to the built commands, everything else its own.
fn scratch(setting: &Setting, name: &str) -> PathBuf {
    let slug: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let dir = setting.scratch_root.join(slug);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("target")).expect("scratch directory");
    for entry in std::fs::read_dir(&setting.root).expect("the workspace root") {
        let entry = entry.expect("a directory entry");
        let name = entry.file_name();
        let keep =
            entry.path().is_dir() && !matches!(name.to_str(), Some("target" | ".git" | ".cargo"));
        if keep {
            std::os::unix::fs::symlink(entry.path(), dir.join(&name)).expect("symlink");
        }
    }
    std::os::unix::fs::symlink(&setting.profile, dir.join("target").join("debug"))
        .expect("symlink to the built commands");
    dir
}

fn marker(index: usize) -> String {
    format!("\u{1e}docs-test-end {index} ")
}

/// `text` with the docs' port `8080` (a whole number) replaced by `port`.
pub fn with_port(text: &str, from: &str, to: &str) -> String {
    let pattern = regex::Regex::new(&format!(r"\b{from}\b")).expect("a port pattern");
    pattern.replace_all(text, to).into_owned()
}

/// The bash script that runs `block` in `dir`.
fn script(block: &Block, dir: &Path, port: &str) -> String {
    let mut out = String::from("set -m\nexec 2>&1\n");
    out.push_str(&format!("cd '{}'\nmkdir -p .docs-test\n", dir.display()));
    for (index, command) in block.commands.iter().enumerate() {
        let text = with_port(&command.text, DOCS_PORT, port);
        if command.background {
            let log = format!(".docs-test/background-{index}.log");
            out.push_str(&format!(
                "{text} > {log} 2>&1 &\necho $! >> .docs-test/background.pids\n\
                 for _ in $(seq {}); do [ -s {log} ] && break; sleep 0.1; done\n\
                 printf '\\n{}%s\\n' -1\n",
                READY_WITHIN_SECS * 10,
                marker(index)
            ));
        } else {
            out.push_str(&format!("{text}\nprintf '\\n{}%s\\n' $?\n", marker(index)));
        }
    }
    // Background commands are asked to stop as a person would (Ctrl-C), then made to.
    out.push_str(
        "for pid in $(cat .docs-test/background.pids 2>/dev/null); do kill -INT -- -$pid 2>/dev/null; done\n\
         for _ in $(seq 50); do [ -z \"$(jobs -pr)\" ] && break; sleep 0.1; done\n\
         for pid in $(cat .docs-test/background.pids 2>/dev/null); do kill -KILL -- -$pid 2>/dev/null; done\n\
         wait\n",
    );
    out
}

/// Runs `block`: what each command printed, in order; `Err` when the block did not finish.
pub fn run(block: &Block, setting: &Setting, name: &str) -> Result<(Vec<Ran>, String), String> {
    let dir = scratch(setting, name);
    let port = free_port().to_string();
    let mut path = vec![dir.join("target").join("debug")];
    path.extend(setting.extra_path.iter().cloned());
    path.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    let mut process = Process::new("bash");
    process
        .arg("-c")
        .arg(script(block, &dir, &port))
        .current_dir(&dir)
        .env("PATH", std::env::join_paths(path).expect("a PATH"))
        .env("NO_COLOR", "1")
        .env("CARGO_TERM_COLOR", "never")
        .env("TERM", "dumb")
        .env_remove("RUST_LOG")
        .env_remove("CARGO_TARGET_DIR")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().ends_with("_API_KEY") {
            process.env_remove(key);
        }
    }
    std::os::unix::process::CommandExt::process_group(&mut process, 0);
    let mut child = process
        .spawn()
        .map_err(|e| format!("cannot run bash: {e}"))?;
    // The script sends stderr to the same pipe as stdout, command by command.
    let mut stdout = child.stdout.take().expect("piped stdout");
    let mut stderr = child.stderr.take().expect("piped stderr");
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stdout.read_to_string(&mut text);
        text
    });
    let errors = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let started = Instant::now();
    let finished = loop {
        match child.try_wait() {
            Ok(Some(_)) => break true,
            Ok(None) if started.elapsed() > BLOCK_TIME_LIMIT => break false,
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => return Err(format!("cannot wait for bash: {e}")),
        }
    };
    if !finished {
        stop_all(child.id());
        let _ = child.wait();
    }
    let text = reader.join().unwrap_or_default();
    let stray = errors.join().unwrap_or_default();
    if !finished {
        return Err(format!(
            "still running after {} s; it printed:\n{text}{stray}",
            BLOCK_TIME_LIMIT.as_secs()
        ));
    }
    let mut ran = Vec::new();
    let mut rest = text.as_str();
    for (index, command) in block.commands.iter().enumerate() {
        let mark = marker(index);
        let Some(at) = rest.find(&mark) else {
            return Err(format!(
                "the block stopped before `{}` ended; it printed:\n{rest}{stray}",
                command.text
            ));
        };
        let output = rest[..at].strip_suffix('\n').unwrap_or(&rest[..at]);
        let after = &rest[at + mark.len()..];
        let (code, next) = after.split_once('\n').unwrap_or((after, ""));
        let output = if command.background {
            std::fs::read_to_string(
                dir.join(".docs-test")
                    .join(format!("background-{index}.log")),
            )
            .unwrap_or_default()
        } else {
            output.to_owned()
        };
        ran.push(Ran {
            output: with_port(&output, &port, DOCS_PORT),
            status: (!command.background).then(|| code.trim().parse().unwrap_or(-1)),
        });
        rest = next;
    }
    Ok((ran, stray))
}

/// Stops bash and every process it started (each job has a process group of its own under
/// `set -m`, so they are found by parentage), youngest first, by process id.
fn stop_all(bash: u32) {
    let mut family = vec![bash];
    let mut i = 0;
    while i < family.len() {
        family.extend(children(family[i]));
        i += 1;
    }
    for pid in family.into_iter().rev() {
        let _ = Process::new("kill")
            .args(["-KILL", &pid.to_string()])
            .status();
    }
}

/// The processes whose parent is `pid` (from `/proc`).
fn children(pid: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|child| {
            std::fs::read_to_string(format!("/proc/{child}/stat"))
                .ok()
                .and_then(|stat| {
                    // pid (comm) state ppid ...: the command name may hold spaces.
                    let after = &stat[stat.rfind(')')? + 1..];
                    after.split_whitespace().nth(1)?.parse::<u32>().ok()
                })
                == Some(pid)
        })
        .collect()
}
