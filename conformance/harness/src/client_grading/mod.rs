//! Grading clients: your own integration, run against an emulator under bad weather, judged by
//! what it sent and how it ended (`cargo xtask conformance client --provider P -- COMMAND...`).
//!
//! For each [scenario](scenario) (all at once) an emulator of the provider starts on a free
//! loopback port with its [journal](img2img_emulator::Journal) on; COMMAND runs once with, in its
//! environment:
//!
//! | variable | value |
//! | --- | --- |
//! | `IMG2IMG_BASE_URL` and `<PROVIDER>_BASE_URL` (`ACME_BASE_URL` for `specs/acme.yaml`) | the emulator, `http://127.0.0.1:PORT` |
//! | the provider's `x-provider.key-env` | a key the emulator accepts (fresh per run) |
//! | `IMG2IMG_PROVIDER` | the provider id (`specs/<id>.yaml`) |
//! | `IMG2IMG_WORK_DIR` | a fresh directory for the run's files |
//!
//! `{base_url}`, `{work_dir}` and `{provider}` in the arguments are replaced by the same values.
//! The command is expected to run one job (create, wait, download) and exit 0 on success, non-zero
//! on failure. It is stopped (with everything it started) at the time limit, or as soon as it has
//! sent more than `--max-requests` requests (5,000). Each exchange is judged, redacted and written
//! as it happens, and the [checks](ClientCheckId) that apply to the scenario judge what was kept:
//! the traffic is read once, each job found by a hash look-up of the id where the spec puts it, so
//! grading costs time linear in the requests and memory that does not grow with them.
//!
//! | check | asserts | under |
//! | --- | --- | --- |
//! | `requests_valid` | every request is an operation of the spec, its body validates against the request schema in the accepting reading (what the provider accepts), required query parameters are there, and the key is where `x-auth` puts it | every scenario |
//! | `create_not_repeated` | no create after one was accepted (its answer, sent or lost, named a job) | every scenario |
//! | `poll_pacing` | two polls of one job, or two create attempts, are at least the floor apart (250 ms, `--poll-floor-ms`); after an answer with `Retry-After`, the next request of its kind waits that long; after an answer with an eta (`x-job.eta-pointer`), at least half of it (at most 5 s); both less 50 ms of timing slack | every scenario |
//! | `stops_at_terminal` | no poll of a job after an answer gave a status of `x-job.succeeded` or `x-job.failed` | every scenario |
//! | `gives_up` | the command exits non-zero by itself within the bound (60 s, `--give-up-within`) | `expect.job = never_ends` (`stuck`) |
//! | `failure_surfaced` | the command exits non-zero and prints the provider's reason | `expect.job = failure` (`job-fails`) |
//! | `downloads_in_time` | every image URL of the finished job is downloaded with a 200 before it expires | `expect.downloads` (`short-ttl`) |
//! | `job_completed` | the command exits 0 by itself and downloaded every image URL of the job that succeeded (inline images count as delivered) | `expect.job = success` (`happy`, `slow-queue`, `rate-limited`, `flaky-polls`, `short-ttl`) |
//! | `within_request_cap` | the run sends at most `--max-requests` requests; one that sends more is stopped and fails with the count, the time and what the job needed at most (a create attempt and a poll per floor for that long, and its images); `gives_up` and `failure_surfaced` (and `downloads_in_time` before a finished job) are then skipped | every scenario |
//!
//! Waits are measured on the emulator's side, from the moment an answer was sent (or the
//! connection closed) to the arrival of the next request. The results are the server harness's
//! (`results.json` with `client` and `scenario` on each result and a `client_runs` entry per
//! scenario: exit code, time, the last lines printed), plus `exchanges/<scenario>.jsonl`, written
//! as the exchanges happen (strings above 256 characters and bodies above 64 KiB cut, each cut
//! marked with the length it had). Keys are redacted everywhere.

mod checks;
mod cli;
mod command;
mod grade;
mod judges;
mod record;
mod scenario;
mod summary;
mod traffic;
mod validity;

pub use checks::{Bounds, ClientCheckId};
pub use cli::{ClientArgs, client_name, run as main};
pub use command::{
    BASE_URL_ENV, CommandOutcome, PROVIDER_ENV, WORK_DIR_ENV, key_env, provider_base_url_env,
};
pub use grade::{GradeError, GradeEvent, GradeOptions, Graded, grade, redact};
pub use judges::ETA_WAIT_CAP;
pub use record::WriteError;
pub use scenario::{ClientScenario, Expect, JobOutcome, ScenarioError, builtin, parse, select};
pub use summary::summary;
