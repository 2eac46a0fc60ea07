//! Running the graded command once: its environment (base URL, key, work directory), the
//! placeholders in its arguments, the time limit, and what it printed.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use img2img_specs::{Provider, Spec};
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::Command;

/// The variable holding the emulator's base URL, whatever the provider.
pub const BASE_URL_ENV: &str = "IMG2IMG_BASE_URL";
/// The variable holding the provider's id (`specs/<id>.yaml`).
pub const PROVIDER_ENV: &str = "IMG2IMG_PROVIDER";
/// The variable holding a fresh, empty directory for the run's files.
pub const WORK_DIR_ENV: &str = "IMG2IMG_WORK_DIR";

/// Most output kept for the checks that read it (the tail is cut from it).
const KEPT_OUTPUT: usize = 4 * 1024 * 1024;

/// The per-provider variable holding the base URL: the provider's `x-provider.id` in upper case,
/// then `_BASE_URL` (`ACME_BASE_URL` for `specs/acme.yaml`).
pub fn provider_base_url_env(provider: Provider) -> String {
    format!(
        "{}_BASE_URL",
        Spec::embedded(provider)
            .extensions()
            .provider
            .id
            .to_ascii_uppercase()
    )
}

/// The provider's usual key variable (its spec's `x-provider.key-env`).
pub fn key_env(provider: Provider) -> &'static str {
    &Spec::embedded(provider).extensions().provider.key_env
}

/// What the command is given for one run.
#[derive(Debug, Clone)]
pub struct Invocation {
    /// The provider.
    pub provider: Provider,
    /// The emulator's base URL.
    pub base_url: String,
    /// The key the emulator accepts.
    pub key: String,
    /// A fresh directory for the run.
    pub work_dir: PathBuf,
    /// The run ends (the command is killed, with everything it started) after this long.
    pub time_limit: Duration,
}

/// How one run of the command went.
#[derive(Debug, Clone, PartialEq)]
pub struct CommandOutcome {
    /// The exit code; `None` when killed (time limit) or ended by a signal.
    pub exit_code: Option<i32>,
    /// Whether the time limit ended it.
    pub timed_out: bool,
    /// Whether the grader stopped it before that (its client sent more than `--max-requests`).
    pub stopped: bool,
    /// How long it ran.
    pub duration: Duration,
    /// Everything it printed (stdout and stderr, lines in the order read; at most 4 MiB).
    pub output: Vec<String>,
    /// Why it could not be started, if it could not.
    pub spawn_error: Option<String>,
}

impl CommandOutcome {
    /// Whether it ended by itself with a non-zero exit code.
    pub fn failed_by_itself(&self) -> bool {
        !self.timed_out && !self.stopped && self.exit_code.is_some_and(|c| c != 0)
    }

    /// The last `lines` lines of output.
    pub fn tail(&self, lines: usize) -> Vec<String> {
        let skip = self.output.len().saturating_sub(lines);
        self.output[skip..].to_vec()
    }
}

/// `arg` with `{base_url}`, `{work_dir}` and `{provider}` replaced.
pub fn expand(arg: &str, invocation: &Invocation) -> String {
    arg.replace("{base_url}", &invocation.base_url)
        .replace("{work_dir}", &invocation.work_dir.display().to_string())
        .replace("{provider}", invocation.provider.id())
}

/// Runs `command` (program and arguments) once, as `invocation` says; `stop` ends it early.
pub async fn run(
    command: &[String],
    invocation: &Invocation,
    stop: impl std::future::Future<Output = ()>,
) -> CommandOutcome {
    let started = Instant::now();
    let Some((program, args)) = command.split_first() else {
        return not_started(started, "no command given".into());
    };
    if let Err(e) = std::fs::create_dir_all(&invocation.work_dir) {
        return not_started(
            started,
            format!("cannot create {}: {e}", invocation.work_dir.display()),
        );
    }
    let mut child = Command::new(expand(program, invocation));
    child
        .args(args.iter().map(|a| expand(a, invocation)))
        .env(BASE_URL_ENV, &invocation.base_url)
        .env(
            provider_base_url_env(invocation.provider),
            &invocation.base_url,
        )
        .env(key_env(invocation.provider), &invocation.key)
        .env(PROVIDER_ENV, invocation.provider.id())
        .env(WORK_DIR_ENV, &invocation.work_dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    #[cfg(unix)]
    child.process_group(0);
    let mut child = match child.spawn() {
        Ok(child) => child,
        Err(e) => return not_started(started, format!("cannot start {program:?}: {e}")),
    };
    let group = child.id();
    let output = Arc::new(Mutex::new(Output::default()));
    let readers = [
        child
            .stdout
            .take()
            .map(|s| read_lines(s, Arc::clone(&output))),
        child
            .stderr
            .take()
            .map(|s| read_lines(s, Arc::clone(&output))),
    ];
    let ended = tokio::select! {
        ended = tokio::time::timeout(invocation.time_limit, child.wait()) => Some(ended),
        () = stop => None,
    };
    let (exit_code, timed_out, stopped) = match ended {
        Some(Ok(Ok(status))) => (status.code(), false, false),
        Some(Ok(Err(_))) => (None, false, false),
        Some(Err(_)) | None => {
            let _ = child.start_kill();
            let _ = child.wait().await;
            (None, ended.is_some(), ended.is_none())
        }
    };
    let duration = started.elapsed();
    // Whatever the command left running in its process group goes with it.
    if let Some(group) = group {
        kill_group(group).await;
    }
    for reader in readers.into_iter().flatten() {
        let _ = tokio::time::timeout(Duration::from_secs(5), reader).await;
    }
    let output = std::mem::take(&mut output.lock().unwrap_or_else(|p| p.into_inner()).lines);
    CommandOutcome {
        exit_code,
        timed_out,
        stopped,
        duration,
        output: output.into(),
        spawn_error: None,
    }
}

fn not_started(started: Instant, error: String) -> CommandOutcome {
    CommandOutcome {
        exit_code: None,
        timed_out: false,
        stopped: false,
        duration: started.elapsed(),
        output: vec![error.clone()],
        spawn_error: Some(error),
    }
}

#[derive(Debug, Default)]
struct Output {
    lines: VecDeque<String>,
    bytes: usize,
}

fn read_lines<R>(stream: R, output: Arc<Mutex<Output>>) -> tokio::task::JoinHandle<()>
where
    R: AsyncRead + Unpin + Send + 'static,
{
    tokio::spawn(async move {
        let mut lines = BufReader::new(stream).lines();
        loop {
            match lines.next_line().await {
                Ok(Some(line)) => {
                    let mut out = output.lock().unwrap_or_else(|p| p.into_inner());
                    out.bytes += line.len();
                    out.lines.push_back(line);
                    while out.bytes > KEPT_OUTPUT {
                        match out.lines.pop_front() {
                            Some(old) => out.bytes -= old.len(),
                            None => break,
                        }
                    }
                }
                Ok(None) => break,
                // Not UTF-8 or a broken pipe: what was read is kept.
                Err(_) => break,
            }
        }
    })
}

/// Kills process group `group` (the command and whatever it started) by its id.
async fn kill_group(group: u32) {
    #[cfg(unix)]
    {
        let _ = Command::new("kill")
            .args(["-s", "KILL", "--", &format!("-{group}")])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .await;
    }
    #[cfg(not(unix))]
    let _ = group;
}

/// A fresh directory for one scenario's run, under `parent`.
pub fn work_dir(parent: &Path, scenario: &str) -> PathBuf {
    let dir = parent.join(scenario);
    let _ = std::fs::remove_dir_all(&dir);
    dir
}
