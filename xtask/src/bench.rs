//! `cargo xtask bench`: the release server under load from wrk, on SQLite and PostgreSQL.
//!
//! For each database: seed 10,000 providers (through `idp-server providers import`), start the
//! release server, measure its time to ready, drive each scenario with wrk at 64 connections,
//! read its peak RSS; on PostgreSQL, run three instances on the database and time how long each
//! write on one takes to be served by the others; then measure list latency and memory as the
//! table grows. Writes `docs/benchmarks.md`.

mod propagation;

use std::fmt::Write as _;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

const CONNECTIONS: u32 = 64;
const KEY: &str = "YmVuY2htYXJrLWtleS1iZW5jaG1hcmsta2V5LTMyYnk=";

/// One wrk run.
#[derive(Debug, Clone, Default)]
struct Load {
    rps: f64,
    p50_ms: f64,
    p99_ms: f64,
    errors: u64,
    /// Requests wrk completed.
    requests: u64,
    /// The server's CPU time (user and system) per completed request, in microseconds; 0 when
    /// not measured.
    cpu_us: f64,
}

/// Options: `--duration SECONDS` per scenario (default 10), `--growth-max N` largest table
/// for the growth runs (default 100000), `--only sqlite|postgres`.
struct Options {
    duration: u64,
    growth_max: usize,
    backends: Vec<&'static str>,
}

fn options(args: &[String]) -> Result<Options> {
    let mut options = Options {
        duration: 10,
        growth_max: 100_000,
        backends: vec!["sqlite", "postgres"],
    };
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let mut value = || args.next().context("a value after the flag");
        match arg.as_str() {
            "--duration" => options.duration = value()?.parse()?,
            "--growth-max" => options.growth_max = value()?.parse()?,
            "--only" => {
                options.backends = match value()?.as_str() {
                    "sqlite" => vec!["sqlite"],
                    "postgres" => vec!["postgres"],
                    other => bail!("unknown backend {other}"),
                }
            }
            other => bail!("unknown bench option {other}"),
        }
    }
    Ok(options)
}

/// Runs the benchmark and writes docs/benchmarks.md.
pub fn run(root: &Path, args: &[String]) -> Result<()> {
    let options = options(args)?;
    super::ensure_debian_package("wrk", "/usr/bin/wrk")?;
    let mut build = super::cargo();
    build
        .args(["build", "--release", "-p", "idp-server"])
        .current_dir(root);
    super::run(build)?;
    let binary = root.join("target/release/idp-server");
    let work = root.join("target/bench");
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work)?;

    let mut report = String::new();
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let date = Command::new("date")
        .arg("-u")
        .arg("+%Y-%m-%d %H:%M UTC")
        .output()?;
    writeln!(report, "# Benchmarks\n")?;
    writeln!(
        report,
        "Measured by `cargo xtask bench` on {} with {cores} cores; wrk shares the machine with the server \
         (2 threads, {CONNECTIONS} connections, {} s per scenario). 10,000 providers are seeded; the ratio \
         compares each scenario's throughput with `/health/live`, the server's own ceiling on this machine.\n\n\
         Reads are served from each instance's snapshot in memory (docs/decisions.md, \"Reads from memory\"). \
         Targets, as ratios of `/health/live` in the same run: retrieve anonymous ≥ 80 %, retrieve staff ≥ 60 %, \
         list `page_size=10` ≥ 50 %, 304 answers ≥ 90 %; list `page_size=100` p99 < 10 ms. The ratios are \
         comparable between runs; absolute numbers are not, when other work shares the machine. \
         docs/performance.md says what bounds each number.\n",
        String::from_utf8_lossy(&date.stdout).trim(),
        options.duration
    )?;
    for backend in &options.backends {
        let db = Database::create(backend, &work)?;
        seed(&binary, &db, &work, 10_000)?;
        let staff = token(&binary, &db)?;
        let mut server = Server::start(&binary, &db)?;
        let ready_ms = server.ready_ms;
        let base = server.base.clone();
        let d = options.duration;
        let ceiling = server.measure(|| wrk(&base, "/health/live", None, None, d))?;
        let retrieve = "/api/identity-providers/p05000/";
        let (_, head, _) = propagation::request(&base, "GET", retrieve, &[], None)?;
        let etag = propagation::header(&head, "etag").context("retrieve has an ETag")?;
        let if_none_match = format!("If-None-Match: {etag}");
        let scenarios = [
            (
                "retrieve, anonymous",
                server.paired(&base, d, || wrk(&base, retrieve, None, None, d))?,
            ),
            (
                "retrieve, staff",
                server.paired(&base, d, || wrk(&base, retrieve, Some(&staff), None, d))?,
            ),
            (
                "retrieve, anonymous, 304 (`If-None-Match`)",
                server.paired(&base, d, || {
                    wrk(&base, retrieve, None, Some(Send::Header(&if_none_match)), d)
                })?,
            ),
            (
                "list, page_size=10",
                server.paired(&base, d, || {
                    wrk(
                        &base,
                        "/api/identity-providers/?page_size=10&page=7",
                        None,
                        None,
                        d,
                    )
                })?,
            ),
            (
                "list, page_size=100",
                server.paired(&base, d, || {
                    wrk(
                        &base,
                        "/api/identity-providers/?page_size=100&page=7",
                        None,
                        None,
                        d,
                    )
                })?,
            ),
            (
                "list, page_size=100, gzip",
                server.paired(&base, d, || {
                    wrk(
                        &base,
                        "/api/identity-providers/?page_size=100&page=7",
                        None,
                        Some(Send::Header("Accept-Encoding: gzip")),
                        d,
                    )
                })?,
            ),
            (
                "PATCH label, staff, one hot row",
                (
                    server.measure(|| {
                        wrk(
                            &base,
                            "/api/identity-providers/p00042/",
                            Some(&staff),
                            Some(Send::PatchOne(&work)),
                            d,
                        )
                    })?,
                    ceiling.rps,
                ),
            ),
            (
                "PATCH label, staff, distinct rows",
                (
                    server.measure(|| {
                        wrk(
                            &base,
                            "/api/identity-providers/p00000/",
                            Some(&staff),
                            Some(Send::PatchDistinct(&work)),
                            d,
                        )
                    })?,
                    ceiling.rps,
                ),
            ),
        ];
        let rss_mib = server.peak_rss_mib()?;
        server.stop();
        writeln!(
            report,
            "## {}\n",
            if *backend == "sqlite" {
                "SQLite"
            } else {
                "PostgreSQL"
            }
        )?;
        writeln!(
            report,
            "| scenario | requests/s | p50 ms | p99 ms | errors | ratio of ceiling | server CPU µs/request |"
        )?;
        writeln!(report, "|---|---:|---:|---:|---:|---:|---:|")?;
        let row = |name: &str, load: &Load, ceiling_rps: f64| {
            format!(
                "| {name} | {:.0} | {:.2} | {:.2} | {} | {:.0} % | {:.1} |\n",
                load.rps,
                load.p50_ms,
                load.p99_ms,
                load.errors,
                100.0 * load.rps / ceiling_rps.max(1.0),
                load.cpu_us
            )
        };
        report.push_str(&row("`/health/live` (ceiling)", &ceiling, ceiling.rps));
        for (name, (load, ceiling_rps)) in &scenarios {
            report.push_str(&row(name, load, *ceiling_rps));
        }
        let (low, high) = scenarios
            .iter()
            .filter(|(name, _)| !name.starts_with("PATCH"))
            .fold((f64::MAX, 0.0_f64), |(low, high), (_, (_, rps))| {
                (low.min(*rps), high.max(*rps))
            });
        writeln!(
            report,
            "\nEach read scenario ran right after a `/health/live` run of its own, and its ratio is \
             to that run (those ceilings: {low:.0} to {high:.0} requests/s), so that a change in the \
             machine's other load moves both; the PATCH rows are compared with the first ceiling."
        )?;
        let cpu_of = |name: &str| {
            scenarios
                .iter()
                .find(|(scenario, _)| *scenario == name)
                .map_or(0.0, |(_, (load, _))| load.cpu_us)
        };
        let staff_cpu = cpu_of("retrieve, staff");
        if staff_cpu > 0.0 {
            writeln!(
                report,
                "\nA PATCH on distinct rows costs {:.1}× the server CPU of a staff retrieve (target: at most 5× on SQLite).",
                cpu_of("PATCH label, staff, distinct rows") / staff_cpu
            )?;
        }
        writeln!(
            report,
            "\nPeak RSS under load: {rss_mib:.1} MiB. Start to ready on the seeded database: {ready_ms:.1} ms.\n"
        )?;
        if *backend == "postgres" {
            propagation_section(&mut report, &binary, &db, &staff)?;
        }
        db.drop_database();
    }

    writeln!(
        report,
        "## Cost growth: list (`page_size=100`, first page), anonymous\n\n\
         The server holds every provider in memory; peak RSS is the memory bound of the snapshot \
         (targets: under 64 MiB at 10,000 providers, under 256 MiB at 100,000).\n"
    )?;
    let sizes: Vec<usize> = [10, 1_000, 10_000, 100_000]
        .into_iter()
        .filter(|n| *n <= options.growth_max)
        .collect();
    write!(report, "| database |")?;
    for size in &sizes {
        write!(report, " {size} providers: p50 / p99 ms, req/s, peak RSS |")?;
    }
    writeln!(report, "\n|---|{}", "---:|".repeat(sizes.len()))?;
    for backend in &options.backends {
        write!(report, "| {backend} |")?;
        for size in &sizes {
            let db = Database::create(backend, &work)?;
            seed(&binary, &db, &work, *size)?;
            let mut server = Server::start(&binary, &db)?;
            let load = wrk(
                &server.base,
                "/api/identity-providers/?page_size=100",
                None,
                None,
                options.duration.min(5),
            )?;
            let rss = server.peak_rss_mib()?;
            server.stop();
            db.drop_database();
            write!(
                report,
                " {:.2} / {:.2}, {:.0}, {rss:.0} MiB |",
                load.p50_ms, load.p99_ms, load.rps
            )?;
        }
        writeln!(report)?;
    }
    let path = root.join("docs/benchmarks.md");
    std::fs::write(&path, &report)?;
    println!("{report}");
    eprintln!("wrote {}", path.display());
    Ok(())
}

/// A throwaway database for one run.
struct Database {
    url: String,
    postgres_name: Option<String>,
}

impl Database {
    fn create(backend: &str, work: &Path) -> Result<Self> {
        static COUNTER: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if backend == "sqlite" {
            let path = work.join(format!("bench-{n}.sqlite3"));
            return Ok(Self {
                url: format!("sqlite://{}", path.display()),
                postgres_name: None,
            });
        }
        let name = format!("idp_bench_{}_{n}", std::process::id());
        psql(&format!("CREATE DATABASE {name}"))?;
        Ok(Self {
            url: format!("postgres://postgres@127.0.0.1:5432/{name}"),
            postgres_name: Some(name),
        })
    }

    fn drop_database(&self) {
        if let Some(name) = &self.postgres_name {
            let _ = psql(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
        }
    }
}

fn psql(sql: &str) -> Result<()> {
    let status = Command::new("psql")
        .args([
            "-h",
            "127.0.0.1",
            "-U",
            "postgres",
            "-d",
            "postgres",
            "-q",
            "-c",
            sql,
        ])
        .stdout(Stdio::null())
        .status()
        .context("psql is needed for the PostgreSQL runs")?;
    if !status.success() {
        bail!("psql failed: {sql}");
    }
    Ok(())
}

/// Three instances on the seeded PostgreSQL database: PATCHes on the first, reads on the two
/// others until each serves the write; the times reported as p50, p99 and max.
fn propagation_section(
    report: &mut String,
    binary: &Path,
    db: &Database,
    staff: &str,
) -> Result<()> {
    const WRITES: usize = 300;
    let mut servers = Vec::new();
    for _ in 0..3 {
        servers.push(Server::start(binary, db)?);
    }
    let readers: Vec<String> = servers[1..].iter().map(|s| s.base.clone()).collect();
    let measured = propagation::measure(&servers[0].base, &readers, staff, "p00077", WRITES);
    for server in &mut servers {
        server.stop();
    }
    let visibility = measured?;
    writeln!(
        report,
        "### Three instances: a write on one, served by the others\n\n\
         {WRITES} PATCHes on instance 1, one after another; after each, instances 2 and 3 are read \
         until both serve it (notifications through PostgreSQL `LISTEN/NOTIFY`; the periodic check, \
         every 5 s, is the fallback). Target: p99 under 100 ms.\n\n\
         | writes | p50 ms | p99 ms | max ms |\n|---:|---:|---:|---:|\n| {WRITES} | {:.2} | {:.2} | {:.2} |\n",
        visibility.quantile(0.5),
        visibility.quantile(0.99),
        visibility.quantile(1.0),
    )?;
    Ok(())
}

fn server_command(binary: &Path, db: &Database) -> Command {
    let mut command = Command::new(binary);
    command
        .env("IDP_DATABASE_URL", &db.url)
        .env("IDP_SECRET_KEY", KEY)
        .env("RUST_LOG", "warn");
    command
}

/// Seeds `count` providers through `idp-server providers import`.
fn seed(binary: &Path, db: &Database, work: &Path, count: usize) -> Result<()> {
    let file = work.join(format!("seed-{count}.json"));
    if !file.exists() {
        let mut text = String::with_capacity(count * 700);
        text.push('[');
        for i in 0..count {
            if i > 0 {
                text.push(',');
            }
            write!(
                text,
                r#"{{"provider":"p{i:05}","label":"Provider {:05}","client_id":"client-{i}","client_secret":"secret-{i}","is_active":true,"discovery_url":"https://idp{i}.example.org/.well-known/openid-configuration","auth_url":"https://idp{i}.example.org/auth","token_url":"https://idp{i}.example.org/token","userinfo_url":"https://idp{i}.example.org/userinfo","logout_url":"","attribute_mapping":{{"email":"email","first_name":"given_name","last_name":"family_name"}},"allowed_redirects":["https://portal.example.org"],"extra_scope":"email profile"}}"#,
                (i * 7919) % count.max(1)
            )?;
        }
        text.push(']');
        std::fs::write(&file, text)?;
    }
    let mut command = server_command(binary, db);
    command
        .args(["providers", "import"])
        .arg(&file)
        .stdout(Stdio::null());
    super::run(command)
}

fn token(binary: &Path, db: &Database) -> Result<String> {
    let output = server_command(binary, db)
        .args(["token", "create", "--username", "bench", "--staff"])
        .output()?;
    if !output.status.success() {
        bail!(
            "token create failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(String::from_utf8(output.stdout)?.trim().to_owned())
}

struct Server {
    child: Child,
    base: String,
    ready_ms: f64,
}

impl Server {
    fn start(binary: &Path, db: &Database) -> Result<Self> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let started = Instant::now();
        let child = server_command(binary, db)
            .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
            .stdout(Stdio::null())
            .spawn()?;
        // Ready, not only live: readiness includes the first load of the snapshot.
        let deadline = started + Duration::from_secs(120);
        loop {
            if ready(port) {
                break;
            }
            if Instant::now() > deadline {
                bail!("the server did not become ready");
            }
            std::thread::sleep(Duration::from_micros(500));
        }
        let ready_ms = started.elapsed().as_secs_f64() * 1000.0;
        Ok(Self {
            child,
            base: format!("http://127.0.0.1:{port}"),
            ready_ms,
        })
    }

    /// Runs `/health/live` (the ceiling), then `load`, each measured: `load`'s answer and the
    /// ceiling's requests/s, for a ratio of two runs made one after the other.
    fn paired(
        &self,
        base: &str,
        seconds: u64,
        load: impl FnOnce() -> Result<Load>,
    ) -> Result<(Load, f64)> {
        let ceiling = self.measure(|| wrk(base, "/health/live", None, None, seconds))?;
        Ok((self.measure(load)?, ceiling.rps))
    }

    /// Runs `load` and adds the server's CPU time per completed request to its answer.
    fn measure(&self, load: impl FnOnce() -> Result<Load>) -> Result<Load> {
        let before = self.cpu_seconds()?;
        let mut answer = load()?;
        let spent = self.cpu_seconds()? - before;
        if answer.requests > 0 {
            answer.cpu_us = spent * 1e6 / answer.requests as f64;
        }
        Ok(answer)
    }

    /// The server's CPU time so far (user and system, all threads), in seconds.
    fn cpu_seconds(&self) -> Result<f64> {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id()))?;
        // Fields after the command name (which is in parentheses and may hold spaces):
        // utime and stime are the 14th and 15th fields of the line.
        let rest = stat
            .rsplit_once(')')
            .map(|(_, rest)| rest)
            .context("/proc stat line")?;
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let ticks: f64 = fields
            .get(11)
            .zip(fields.get(12))
            .and_then(|(user, system)| {
                Some(user.parse::<f64>().ok()? + system.parse::<f64>().ok()?)
            })
            .context("utime and stime in /proc stat")?;
        Ok(ticks / clock_ticks_per_second())
    }

    fn peak_rss_mib(&self) -> Result<f64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))?;
        let kib: f64 = status
            .lines()
            .find_map(|line| line.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .context("VmHWM in /proc")?;
        Ok(kib / 1024.0)
    }

    fn stop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

fn ready(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let request = "GET /health/ready HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer.starts_with("HTTP/1.1 200")
}

/// What wrk sends besides a plain GET.
#[derive(Clone, Copy)]
enum Send<'a> {
    /// A GET with this extra header.
    Header(&'a str),
    /// PATCH requests changing the label of the one provider of the path (a hot row).
    PatchOne(&'a PathBuf),
    /// PATCH requests changing the labels of the 10,000 seeded providers in turn.
    PatchDistinct(&'a PathBuf),
}

/// Runs wrk against `path`, GET unless `send` says otherwise.
fn wrk(
    base: &str,
    path: &str,
    token: Option<&str>,
    send: Option<Send<'_>>,
    seconds: u64,
) -> Result<Load> {
    let mut command = Command::new("wrk");
    command.args([
        "-t2",
        &format!("-c{CONNECTIONS}"),
        &format!("-d{seconds}s"),
        "--latency",
    ]);
    if let Some(token) = token {
        command.args(["-H", &format!("Authorization: Token {token}")]);
    }
    match send {
        None => {}
        Some(Send::Header(header)) => {
            command.args(["-H", header]);
        }
        Some(Send::PatchOne(dir)) => {
            let script = dir.join("patch.lua");
            std::fs::write(
                &script,
                "wrk.method = \"PATCH\"\nwrk.headers[\"Content-Type\"] = \"application/json\"\n\
                 counter = 0\nrequest = function()\n  counter = counter + 1\n  \
                 return wrk.format(nil, nil, nil, '{\"label\": \"Label ' .. counter .. '\"}')\nend\n",
            )?;
            command.arg("-s").arg(&script);
        }
        Some(Send::PatchDistinct(dir)) => {
            let script = dir.join("patch-distinct.lua");
            std::fs::write(
                &script,
                "wrk.method = \"PATCH\"\nwrk.headers[\"Content-Type\"] = \"application/json\"\n\
                 counter = 0\nrequest = function()\n  counter = counter + 1\n  \
                 local path = string.format(\"/api/identity-providers/p%05d/\", counter % 10000)\n  \
                 return wrk.format(nil, path, nil, '{\"label\": \"Label ' .. counter .. '\"}')\nend\n",
            )?;
            command.arg("-s").arg(&script);
        }
    }
    command.arg(format!("{base}{path}"));
    let output = command.output().context("running wrk")?;
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    if !output.status.success() {
        bail!(
            "wrk failed: {text}{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    parse_wrk(&text)
}

/// The kernel's clock ticks per second (`getconf CLK_TCK`; 100 on Linux when it cannot be asked).
fn clock_ticks_per_second() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|output| String::from_utf8(output.stdout).ok())
        .and_then(|text| text.trim().parse().ok())
        .unwrap_or(100.0)
}

fn parse_wrk(text: &str) -> Result<Load> {
    let mut load = Load::default();
    for line in text.lines().map(str::trim) {
        if let Some((count, _)) = line.split_once(" requests in ") {
            load.requests = count.trim().parse().unwrap_or(0);
        }
        if let Some(rest) = line.strip_prefix("Requests/sec:") {
            load.rps = rest.trim().parse()?;
        } else if let Some(rest) = line.strip_prefix("50%") {
            load.p50_ms = duration_ms(rest.trim())?;
        } else if let Some(rest) = line.strip_prefix("99%") {
            load.p99_ms = duration_ms(rest.trim())?;
        } else if let Some(rest) = line.strip_prefix("Non-2xx or 3xx responses:") {
            load.errors += rest.trim().parse::<u64>()?;
        } else if let Some(rest) = line.strip_prefix("Socket errors:") {
            for part in rest.split(',') {
                if let Some(n) = part
                    .split_whitespace()
                    .last()
                    .and_then(|n| n.parse::<u64>().ok())
                {
                    load.errors += n;
                }
            }
        }
    }
    if load.rps == 0.0 {
        bail!("could not read wrk's output:\n{text}");
    }
    Ok(load)
}

fn duration_ms(text: &str) -> Result<f64> {
    let split = text
        .find(|c: char| c.is_ascii_alphabetic())
        .context("a unit")?;
    let (number, unit) = text.split_at(split);
    let value: f64 = number.parse()?;
    Ok(match unit {
        "us" => value / 1000.0,
        "ms" => value,
        "s" => value * 1000.0,
        "m" => value * 60_000.0,
        other => bail!("unknown unit {other}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_wrk_output() {
        let text = "  Latency Distribution\n     50%  812.00us\n     75%    1.20ms\n     90%    2.01ms\n     99%    5.55ms\n  \
                    Socket errors: connect 0, read 2, write 0, timeout 1\n  Non-2xx or 3xx responses: 4\nRequests/sec:  12345.67\n";
        let load = parse_wrk(text).unwrap();
        assert!((load.rps - 12345.67).abs() < 1e-6);
        assert!((load.p50_ms - 0.812).abs() < 1e-9);
        assert!((load.p99_ms - 5.55).abs() < 1e-9);
        assert_eq!(load.errors, 7);
    }
}
