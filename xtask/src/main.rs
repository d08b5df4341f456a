//! The project's own automation: `cargo xtask test`, `ci`, `openapi`, `bench`, `fuzz`.
//!
//! Run `cargo xtask help` for the list.

mod bench;
mod fuzz;

use std::net::{SocketAddr, TcpStream};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use idp_fixtures::Located;

const USAGE: &str = "\
usage: cargo xtask <command>

commands:
  test    run the whole test suite on SQLite and PostgreSQL (starts PostgreSQL if it is down);
          the last line names the extra suites (IDP_DISCOVERY_CORPUS, IDP_REFERENCE_OPENAPI)
          that were skipped; IDP_REQUIRE_EXTRA_SUITES=1 makes their absence a failure
  ci      what CI runs: rustfmt check, no citation of documents outside the repository, no
          unused dependency (cargo machete), the libraries' docs without warnings, idp-core
          and idp-oidc packaged, docs/openapi.json up to date, clippy with warnings denied,
          then `test`
  openapi write docs/openapi.json from the code (the document served at /api/schema/)
  bench   load-test the release server on SQLite and PostgreSQL with wrk; writes
          docs/benchmarks.md (options: --duration SECONDS, --growth-max N, --only sqlite|postgres)
  fuzz    fuzz body and discovery parsing (--seconds N per target), then 100,000 hostile
          requests per database
";

/// The PostgreSQL server the test suite creates its throwaway databases on.
const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("test") => test(&args[1..]),
        Some("ci") => ci(),
        Some("openapi") => openapi(),
        Some("bench") => bench::run(&workspace_root(), &args[1..]),
        Some("fuzz") => fuzz::run(&workspace_root(), &args[1..]),
        Some("help" | "--help" | "-h") | None => {
            print!("{USAGE}");
            Ok(())
        }
        Some(other) => bail!("unknown command {other:?}\n{USAGE}"),
    }
}

/// The workspace root: xtask's manifest directory's parent.
fn workspace_root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap_or(std::path::Path::new("."))
        .to_path_buf()
}

fn cargo() -> Command {
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
}

fn run(mut command: Command) -> Result<()> {
    eprintln!("$ {command:?}");
    let status = command
        .status()
        .with_context(|| format!("cannot run {command:?}"))?;
    if !status.success() {
        bail!("{command:?} failed with {status}");
    }
    Ok(())
}

fn ci() -> Result<()> {
    let mut fmt = cargo();
    fmt.args(["fmt", "--all", "--", "--check"]);
    run(fmt)?;
    check_citations()?;
    check_unused_dependencies()?;
    check_library_docs()?;
    check_packages()?;
    check_openapi()?;
    let mut clippy = cargo();
    clippy.args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--all-features",
        "--",
        "-D",
        "warnings",
    ]);
    run(clippy)?;
    test(&[])
}

/// Fails, listing `file:line`, when a tracked file cites a document outside the repository:
/// comments and docs cite `docs/decisions.md` and the other pages under `docs/` instead.
fn check_citations() -> Result<()> {
    let root = workspace_root();
    let listed = Command::new("git")
        .args(["ls-files", "-z"])
        .current_dir(&root)
        .output()
        .context("cannot run git ls-files")?;
    if !listed.status.success() {
        bail!("git ls-files failed with {}", listed.status);
    }
    let mut found = Vec::new();
    for path in String::from_utf8_lossy(&listed.stdout).split('\0') {
        if path.is_empty()
            || path == "docs/openapi.json"
            || path.starts_with("fixtures/oidc-provider/node_modules/")
            || path.ends_with("package-lock.json")
        {
            continue;
        }
        let Ok(bytes) = std::fs::read(root.join(path)) else {
            continue; // listed but deleted in the working tree
        };
        for (index, line) in String::from_utf8_lossy(&bytes).lines().enumerate() {
            if cites_outside_document(line) {
                found.push(format!("{path}:{}: {}", index + 1, line.trim()));
            }
        }
    }
    if !found.is_empty() {
        bail!(
            "these lines cite documents outside the repository; cite docs/decisions.md (by \
             section name) or another page under docs/ instead:\n{}",
            found.join("\n")
        );
    }
    Ok(())
}

/// Fails when a crate's manifest names a dependency its code does not use. `cargo machete` scans
/// the sources, so it is fast and may be wrong; where it is, the crate lists the dependency under
/// `[package.metadata.cargo-machete] ignored`, with the reason.
fn check_unused_dependencies() -> Result<()> {
    let mut machete = cargo();
    // cargo-machete takes itself for a `cargo run` program, and `machete` for a path, when it
    // sees `CARGO_PKG_NAME`, which `cargo run` set for xtask.
    machete
        .arg("machete")
        .env_remove("CARGO_PKG_NAME")
        .current_dir(workspace_root());
    run(machete).context(
        "a crate names a dependency it does not use (`cargo machete`; install it with \
         `cargo install cargo-machete --locked`)",
    )
}

/// The libraries whose documentation must build without a warning (broken links, missing docs).
const DOCUMENTED: [&str; 4] = ["idp-core", "idp-oidc", "idp-store", "idp-http"];

/// The crates published for other programs (`docs/embedding.md`).
const PUBLISHED: [&str; 2] = ["idp-core", "idp-oidc"];

/// Builds the libraries' documentation with warnings denied.
fn check_library_docs() -> Result<()> {
    let mut doc = cargo();
    doc.args(["doc", "--no-deps"])
        .args(DOCUMENTED.iter().flat_map(|name| ["-p", name]))
        .env("RUSTDOCFLAGS", "-D warnings");
    run(doc)
}

/// Packages the published crates as crates.io would receive them: the manifests are complete and
/// the README and license files are in. Their code is built by the other steps.
fn check_packages() -> Result<()> {
    let mut package = cargo();
    package
        .args(["package", "--allow-dirty", "--no-verify"])
        .args(PUBLISHED.iter().flat_map(|name| ["-p", name]));
    run(package)
}

/// Whether `line` names a document that lives outside the repository. The names are built from
/// pieces so that this function does not match itself.
fn cites_outside_document(line: &str) -> bool {
    let names = [
        ["DECI", "SIONS"].concat(),
        ["waldur-", "behaviour"].concat(),
        ["waldur-", "login-flow"].concat(),
        ["STACK", ".md"].concat(),
        ["STYLE", ".md"].concat(),
    ];
    // The spec directory only where its name starts a word: a path, not part of a longer name.
    let spec_dir = ["spec", "/"].concat();
    names.iter().any(|name| line.contains(name.as_str()))
        || line.match_indices(spec_dir.as_str()).any(|(at, _)| {
            !line[..at]
                .chars()
                .next_back()
                .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '-')
        })
}

/// The test that compares the committed `docs/openapi.json` with the document the code
/// generates; with `IDP_BLESS=1` it writes the file instead. Running it through cargo keeps
/// xtask free of the API's dependencies.
fn openapi_test() -> Command {
    let mut command = cargo();
    command.args([
        "test",
        "-p",
        "idp-http",
        "--all-features",
        "--test",
        "openapi",
        "--",
        "--exact",
        "committed_document_is_current",
    ]);
    command
}

/// Writes `docs/openapi.json` from the code.
fn openapi() -> Result<()> {
    let mut command = openapi_test();
    command.env("IDP_BLESS", "1");
    run(command)?;
    eprintln!("wrote docs/openapi.json");
    Ok(())
}

/// Fails when `docs/openapi.json` is not what the code generates.
fn check_openapi() -> Result<()> {
    let mut command = openapi_test();
    command.env_remove("IDP_BLESS");
    run(command).context("docs/openapi.json is stale: run `cargo xtask openapi` and commit it")
}

/// Runs every test of the workspace; the PostgreSQL half is mandatory. Ends with one line that
/// names the extra suites that were skipped and why, or says that all of them ran.
fn test(extra: &[String]) -> Result<()> {
    let suites = extra_suites()?;
    let postgres =
        std::env::var("IDP_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_POSTGRES_URL.into());
    ensure_postgres(&postgres)?;
    ensure_oidc_provider_fixture()?;
    // The docs page's test drives a headless Chromium.
    ensure_debian_package("chromium", "/usr/bin/chromium")?;
    let mut command = cargo();
    command
        .args(["test", "--workspace", "--all-targets", "--all-features"])
        .args(extra)
        .env("IDP_TEST_POSTGRES_URL", &postgres);
    let outcome = run(command).and_then(|()| {
        let mut doc = cargo();
        doc.args(["test", "--workspace", "--doc", "--all-features"]);
        run(doc)
    });
    eprintln!("\n{suites}");
    outcome
}

/// The line that reports the extra suites (sources outside the repository, see
/// `fixtures/README.md`). Fails before any test runs when a variable names a missing path, or
/// when a source is absent and `IDP_REQUIRE_EXTRA_SUITES=1`.
fn extra_suites() -> Result<String> {
    let mut ran = Vec::new();
    let mut skipped = Vec::new();
    for suite in idp_fixtures::EXTRA_SUITES {
        match suite.locate() {
            Located::Found(path) => ran.push(format!("{} ({})", suite.name, path.display())),
            Located::Misconfigured(why) => bail!("{} is misconfigured: {why}", suite.name),
            Located::Absent(why) if idp_fixtures::required() => bail!(
                "{} is required ({}=1) but absent: {why}",
                suite.name,
                idp_fixtures::REQUIRE_EXTRA_SUITES
            ),
            Located::Absent(why) => skipped.push(format!("{} ({why})", suite.name)),
        }
    }
    Ok(if skipped.is_empty() {
        format!("extra suites: all ran: {}", ran.join("; "))
    } else {
        format!(
            "extra suites: skipped {}; set {}=1 to make an absent suite fail",
            skipped.join("; skipped "),
            idp_fixtures::REQUIRE_EXTRA_SUITES
        )
    })
}

/// Starts the local PostgreSQL cluster when nothing listens on its port, and fails when it
/// still cannot be reached.
fn ensure_postgres(url: &str) -> Result<()> {
    let address = postgres_address(url)?;
    if reachable(address) {
        return Ok(());
    }
    eprintln!("PostgreSQL is not reachable at {address}; starting the local cluster");
    let versions = std::fs::read_dir("/etc/postgresql")
        .context("PostgreSQL is down and /etc/postgresql does not exist: install postgresql")?;
    for version in versions.flatten() {
        let version = version.file_name().to_string_lossy().into_owned();
        let _ = Command::new("pg_ctlcluster")
            .args(["--skip-systemctl-redirect", &version, "main", "start"])
            .status();
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if reachable(address) {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    bail!("PostgreSQL is still not reachable at {address}: the PostgreSQL test run is mandatory")
}

fn postgres_address(url: &str) -> Result<SocketAddr> {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let host_port = rest.split(['/', '?']).next().unwrap_or_default();
    let host_port = host_port
        .rsplit_once('@')
        .map_or(host_port, |(_, host)| host);
    let (host, port) = host_port.rsplit_once(':').unwrap_or((host_port, "5432"));
    let host = if host.is_empty() || host == "localhost" {
        "127.0.0.1"
    } else {
        host
    };
    format!("{host}:{port}")
        .parse()
        .with_context(|| format!("cannot read a host and port from {url:?}"))
}

fn reachable(address: SocketAddr) -> bool {
    TcpStream::connect_timeout(&address, Duration::from_secs(2)).is_ok()
}

/// Installs Debian's `package` with apt-get when `path` is missing (as root; otherwise says
/// which command to run).
fn ensure_debian_package(package: &str, path: &str) -> Result<()> {
    if std::path::Path::new(path).exists() {
        return Ok(());
    }
    eprintln!("installing {package} from Debian's packages ({path} is missing)");
    let install = || {
        Command::new("apt-get")
            .args(["install", "-y", "--no-install-recommends", package])
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status()
            .is_ok_and(|status| status.success())
    };
    if !install() {
        let _ = Command::new("apt-get").arg("update").status();
        if !install() {
            bail!("{path} is needed: install it with `apt-get install -y {package}` (as root)");
        }
    }
    Ok(())
}

/// Installs the npm packages of the real OpenID Provider the login tests run
/// (`fixtures/oidc-provider`) when they are missing, exactly as its lock file pins them.
fn ensure_oidc_provider_fixture() -> Result<()> {
    let dir = workspace_root().join("fixtures/oidc-provider");
    if dir
        .join("node_modules/oidc-provider/package.json")
        .is_file()
    {
        return Ok(());
    }
    let mut npm = Command::new("npm");
    npm.args(["ci", "--no-audit", "--no-fund"])
        .current_dir(&dir);
    run(npm).context("the login tests need Node.js and npm: install them, then run `npm ci --prefix fixtures/oidc-provider`")
}

#[cfg(test)]
mod tests {
    use super::cites_outside_document;

    #[test]
    fn citations_of_outside_documents_are_found() {
        for line in [
            &format!("// see {}S §2", "DECISION"),
            &format!("//! ({}-{}.md §5.3)", "waldur", "behaviour"),
            &format!("({}.md G5)", "STACK"),
            &format!("Behaviour follows `{}/x.md`", "spec"),
            &format!("{}/waldur.md", "spec"),
        ] {
            assert!(cites_outside_document(line), "{line}");
        }
    }

    #[test]
    fn own_documents_and_longer_names_are_not_citations() {
        for line in [
            "// (`docs/decisions.md`, \"Errors\")",
            "https://openid.net/specs/openid-connect-core-1_0.html",
            &format!("let re{}/ = 1;", "spec"),
            &format!("crates/idp-server/tests/in{}/main.rs", "spec"),
            "the reference's behaviour",
        ] {
            assert!(!cites_outside_document(line), "{line}");
        }
    }
}
