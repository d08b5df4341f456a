//! `cargo xtask fuzz`: coverage-guided fuzzing of request-body and discovery-document parsing,
//! then the long hostile-input run against the real server.
//!
//! 1. Installs what it needs: `cargo-fuzz` from crates.io (pinned version) and a C++ compiler
//!    from Debian's packages when there is none (libfuzzer-sys builds libFuzzer from source).
//! 2. Builds the targets of `crates/idp-fuzz/fuzz` with `cargo fuzz build --sanitizer none`, which
//!    works on the stable toolchain: coverage comes from the stable `-Cpasses=sancov-module`
//!    codegen options, and no `-Z` flag is used. Debug assertions are on.
//! 3. Runs each target for a bounded time (`--seconds`, default 120) on a working corpus in
//!    `target/fuzz/corpus/<target>`, reading the committed seeds (`crates/idp-fuzz/seeds/<target>`,
//!    and for `discovery_document` also the project's own documents in `fixtures/discovery`, read
//!    in place) and past crashes (`crates/idp-fuzz/regressions/<target>`). A crash input is copied into
//!    `crates/idp-fuzz/regressions/<target>/`, where the stable regression test
//!    (`cargo test -p idp-fuzz`) replays it from then on.
//! 4. Replays seeds and regressions through the same harnesses on stable.
//! 5. Runs `crates/idp-http/tests/hostile.rs` with `IDP_HOSTILE_REQUESTS` (default 100,000) on
//!    SQLite and PostgreSQL.
//!
//! Options: `--seconds N` per target, `--target NAME` (repeatable; default every target),
//! `--hostile-requests N` (0 skips the hostile run), `--no-hostile`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{Context, Result, bail};

/// The cargo-fuzz release installed when `cargo fuzz` is missing.
const CARGO_FUZZ_VERSION: &str = "0.13.2";
/// The fuzz targets, with the longest input each is given.
const TARGETS: [(&str, usize); 2] = [
    ("request_body", 16 * 1024),
    ("discovery_document", 64 * 1024),
];
const DEFAULT_SECONDS: u64 = 120;
const DEFAULT_HOSTILE_REQUESTS: u64 = 100_000;
const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

struct Options {
    seconds: u64,
    targets: Vec<&'static str>,
    hostile_requests: u64,
}

fn options(args: &[String]) -> Result<Options> {
    let mut options = Options {
        seconds: DEFAULT_SECONDS,
        targets: Vec::new(),
        hostile_requests: DEFAULT_HOSTILE_REQUESTS,
    };
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let mut value = || args.next().with_context(|| format!("a value after {arg}"));
        match arg.as_str() {
            "--seconds" => options.seconds = value()?.parse().context("--seconds N")?,
            "--target" => {
                let name = value()?;
                let (target, _) = TARGETS
                    .iter()
                    .find(|(target, _)| target == name)
                    .with_context(|| format!("unknown fuzz target {name:?}"))?;
                options.targets.push(target);
            }
            "--hostile-requests" => {
                options.hostile_requests = value()?.parse().context("--hostile-requests N")?;
            }
            "--no-hostile" => options.hostile_requests = 0,
            other => bail!(
                "unknown fuzz option {other}; options: --seconds N, --target NAME, \
                 --hostile-requests N, --no-hostile"
            ),
        }
    }
    if options.targets.is_empty() {
        options.targets = TARGETS.iter().map(|(target, _)| *target).collect();
    }
    if options.seconds == 0 {
        bail!("--seconds must be at least 1");
    }
    Ok(options)
}

/// What one target's run did.
struct Outcome {
    target: &'static str,
    seconds: f64,
    executions: Option<u64>,
    per_second: Option<u64>,
    coverage: Option<String>,
    corpus: usize,
    crashes: Vec<PathBuf>,
}

/// Runs `cargo xtask fuzz`.
pub fn run(root: &Path, args: &[String]) -> Result<()> {
    let options = options(args)?;
    let fuzz_dir = root.join("crates/idp-fuzz/fuzz");
    let work = root.join("target/fuzz");
    ensure_cargo_fuzz()?;
    ensure_cxx()?;

    super::run(cargo_fuzz(root, "build", &fuzz_dir, &work))?;

    let mut outcomes = Vec::new();
    for target in &options.targets {
        outcomes.push(fuzz_target(
            root,
            &fuzz_dir,
            &work,
            target,
            options.seconds,
        )?);
    }

    // The same harnesses on stable, over seeds and every regression input (new ones included).
    let mut replay = super::cargo();
    replay
        .args(["test", "-p", "idp-fuzz", "--test", "regressions"])
        .current_dir(root);
    let replayed = super::run(replay);

    let hostile = if options.hostile_requests > 0 {
        Some(hostile(root, options.hostile_requests))
    } else {
        None
    };

    eprintln!("\n{}", summary(&outcomes));
    let crashes: Vec<&PathBuf> = outcomes.iter().flat_map(|o| &o.crashes).collect();
    if !crashes.is_empty() {
        bail!(
            "fuzzing found {} crash input(s), copied into crates/idp-fuzz/regressions: {crashes:?}",
            crashes.len()
        );
    }
    replayed.context("the regression inputs do not all pass")?;
    if let Some(result) = hostile {
        result.context("the hostile-input run failed")?;
    }
    Ok(())
}

/// `cargo fuzz <verb>` with the options every call shares: stable-compatible sanitizer, debug
/// assertions, and the build kept under `target/fuzz`.
fn cargo_fuzz(root: &Path, verb: &str, fuzz_dir: &Path, work: &Path) -> Command {
    let mut command = super::cargo();
    command
        .arg("fuzz")
        .arg(verb)
        .arg("--fuzz-dir")
        .arg(fuzz_dir)
        .args(["--sanitizer", "none", "--debug-assertions"])
        .arg("--target-dir")
        .arg(work)
        .current_dir(root);
    command
}

fn ensure_cargo_fuzz() -> Result<()> {
    let installed = super::cargo()
        .args(["fuzz", "--version"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if installed {
        return Ok(());
    }
    eprintln!("installing cargo-fuzz {CARGO_FUZZ_VERSION} from crates.io");
    let mut install = super::cargo();
    install.args([
        "install",
        "cargo-fuzz",
        "--locked",
        "--version",
        CARGO_FUZZ_VERSION,
    ]);
    super::run(install)
}

/// libfuzzer-sys compiles libFuzzer (C++) with the `cc` crate.
fn ensure_cxx() -> Result<()> {
    let found = ["c++", "g++", "clang++"].iter().any(|compiler| {
        Command::new(compiler)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    });
    if found {
        return Ok(());
    }
    eprintln!("installing a C++ compiler (g++) from Debian's packages");
    let install = || {
        Command::new("apt-get")
            .args(["install", "-y", "g++"])
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status()
            .is_ok_and(|s| s.success())
    };
    if !install() {
        let _ = Command::new("apt-get").arg("update").status();
        if !install() {
            bail!("a C++ compiler is needed to build libFuzzer: apt-get install g++");
        }
    }
    Ok(())
}

fn files_in(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|entry| entry.path())
                .filter(|path| path.is_file())
                .collect()
        })
        .unwrap_or_default()
}

/// Runs one target for `seconds` and copies any crash input into its regression directory.
fn fuzz_target(
    root: &Path,
    fuzz_dir: &Path,
    work: &Path,
    target: &'static str,
    seconds: u64,
) -> Result<Outcome> {
    let max_len = TARGETS
        .iter()
        .find(|(name, _)| *name == target)
        .map_or(4096, |(_, max_len)| *max_len);
    let corpus = work.join("corpus").join(target);
    let artifacts = work.join("artifacts").join(target);
    let logs = work.join("logs");
    let seeds = root.join("crates/idp-fuzz/seeds").join(target);
    let regressions = root.join("crates/idp-fuzz/regressions").join(target);
    for dir in [&corpus, &artifacts, &logs, &regressions] {
        std::fs::create_dir_all(dir).with_context(|| format!("create {}", dir.display()))?;
    }
    let before: Vec<PathBuf> = files_in(&artifacts);
    let log_path = logs.join(format!("{target}.log"));
    let log = std::fs::File::create(&log_path)?;

    let mut command = cargo_fuzz(root, "run", fuzz_dir, work);
    // The first directory receives new inputs; the others are only read.
    command.arg(target).arg(&corpus).arg(&seeds);
    if target == "discovery_document" {
        // The own discovery documents are seeds too; they are kept once, in fixtures/.
        command.arg(idp_fixtures::discovery_dir());
    }
    command
        .arg(&regressions)
        .arg("--")
        .arg(format!("-max_total_time={seconds}"))
        .arg(format!("-max_len={max_len}"))
        .arg("-timeout=10")
        .arg("-rss_limit_mb=4096")
        .arg("-print_final_stats=1")
        .arg(format!("-artifact_prefix={}/", artifacts.display()));
    let dictionary = fuzz_dir.join(format!("{target}.dict"));
    if dictionary.exists() {
        command.arg(format!("-dict={}", dictionary.display()));
    }
    command.stdout(log.try_clone()?).stderr(log);
    eprintln!("$ {command:?}\n  (output in {})", log_path.display());
    let started = Instant::now();
    let status = command
        .status()
        .with_context(|| format!("cannot run {command:?}"))?;
    let elapsed = started.elapsed().as_secs_f64();
    let text = std::fs::read_to_string(&log_path).unwrap_or_default();

    let mut crashes = Vec::new();
    for artifact in files_in(&artifacts) {
        if before.contains(&artifact) {
            continue;
        }
        let name = artifact.file_name().context("an artifact file name")?;
        let kept = regressions.join(name);
        std::fs::copy(&artifact, &kept)
            .with_context(|| format!("copy {} to {}", artifact.display(), kept.display()))?;
        crashes.push(kept);
    }
    if !status.success() && crashes.is_empty() {
        let tail: Vec<&str> = text.lines().rev().take(40).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        bail!(
            "cargo fuzz run {target} failed with {status} and left no crash input:\n{}",
            tail.join("\n")
        );
    }
    if !crashes.is_empty() {
        let tail: Vec<&str> = text.lines().rev().take(60).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        eprintln!("{target} crashed:\n{}", tail.join("\n"));
    }
    let outcome = Outcome {
        target,
        seconds: elapsed,
        executions: stat(&text, "stat::number_of_executed_units:"),
        per_second: stat(&text, "stat::average_exec_per_sec:"),
        coverage: text
            .lines()
            .rev()
            .find_map(|line| line.split_once(" cov: "))
            .map(|(_, rest)| rest.split_whitespace().next().unwrap_or("").to_owned()),
        corpus: files_in(&corpus).len(),
        crashes,
    };
    eprintln!(
        "{target}: {} executions in {:.0} s, {} new corpus inputs, {} crash(es)",
        outcome
            .executions
            .map_or_else(|| "?".to_owned(), |n| n.to_string()),
        outcome.seconds,
        outcome.corpus,
        outcome.crashes.len()
    );
    Ok(outcome)
}

fn stat(log: &str, key: &str) -> Option<u64> {
    log.lines()
        .rev()
        .find_map(|line| line.strip_prefix(key))
        .and_then(|value| value.trim().parse().ok())
}

fn summary(outcomes: &[Outcome]) -> String {
    let mut out = String::from("fuzz summary\n");
    let _ = writeln!(
        out,
        "  {:<20} {:>8} {:>14} {:>10} {:>8} {:>8} {:>8}",
        "target", "seconds", "executions", "execs/s", "cov", "corpus", "crashes"
    );
    for o in outcomes {
        let show = |n: Option<u64>| n.map_or_else(|| "?".to_owned(), |n| n.to_string());
        let _ = writeln!(
            out,
            "  {:<20} {:>8.0} {:>14} {:>10} {:>8} {:>8} {:>8}",
            o.target,
            o.seconds,
            show(o.executions),
            show(o.per_second),
            o.coverage.as_deref().unwrap_or("?"),
            o.corpus,
            o.crashes.len()
        );
    }
    out
}

/// The hostile-input run against the real server, on SQLite and PostgreSQL.
fn hostile(root: &Path, requests: u64) -> Result<()> {
    let postgres =
        std::env::var("IDP_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_POSTGRES_URL.into());
    super::ensure_postgres(&postgres)?;
    let mut command = super::cargo();
    command
        .args([
            "test",
            "-p",
            "idp-http",
            "--test",
            "hostile",
            "--",
            "--nocapture",
        ])
        .env("IDP_HOSTILE_REQUESTS", requests.to_string())
        .env("IDP_TEST_POSTGRES_URL", &postgres)
        .current_dir(root);
    super::run(command)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_default_to_every_target_and_the_long_hostile_run() {
        let defaults = options(&[]).unwrap();
        assert_eq!(defaults.targets, ["request_body", "discovery_document"]);
        assert_eq!(defaults.seconds, DEFAULT_SECONDS);
        assert_eq!(defaults.hostile_requests, 100_000);
        let args: Vec<String> = ["--seconds", "5", "--target", "request_body", "--no-hostile"]
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
        let chosen = options(&args).unwrap();
        assert_eq!(
            (chosen.seconds, chosen.targets, chosen.hostile_requests),
            (5, vec!["request_body"], 0)
        );
        assert!(options(&["--target".into(), "nope".into()]).is_err());
    }

    #[test]
    fn final_stats_are_read_from_the_log() {
        let log = "#2\tINITED cov: 6 ft: 7\n#99 DONE cov: 1234 ft: 5\n\
                   stat::number_of_executed_units: 15089552\nstat::average_exec_per_sec:     2514925\n";
        assert_eq!(
            stat(log, "stat::number_of_executed_units:"),
            Some(15_089_552)
        );
        assert_eq!(stat(log, "stat::average_exec_per_sec:"), Some(2_514_925));
    }
}
