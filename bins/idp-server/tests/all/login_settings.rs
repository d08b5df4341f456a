//! The login, refresh and audit-retention settings of `idp-server serve`: listed by `--help`, and a value that names
//! something invalid stops the server at start, naming the setting, before the database is
//! touched.

use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_idp-server");

const SETTINGS: [&str; 11] = [
    "IDP_PUBLIC_URL",
    "IDP_TRUST_FORWARDED_HEADERS",
    "IDP_HOMEPORT_URL",
    "IDP_DEFAULT_PROVIDER",
    "IDP_LOGIN_TOKEN_TTL",
    "IDP_LOGIN_RATE_LIMIT",
    "IDP_MATCH_BY_EMAIL",
    "IDP_SYNC_FIELDS",
    "IDP_ROLE_CLAIM",
    "IDP_REFRESH_INTERVAL",
    "IDP_AUDIT_RETENTION_DAYS",
];

#[test]
fn help_lists_every_login_setting() {
    let output = Command::new(BIN)
        .args(["serve", "--help"])
        .output()
        .expect("idp-server runs");
    let help = String::from_utf8_lossy(&output.stdout);
    for setting in SETTINGS {
        assert!(help.contains(setting), "--help does not list {setting}");
    }
}

#[test]
fn invalid_login_settings_stop_the_server_at_start() {
    let dir = tempfile::tempdir().expect("a directory");
    let database = dir.path().join("idp.sqlite3");
    for (setting, value) in [
        ("IDP_PUBLIC_URL", "not a url"),
        ("IDP_PUBLIC_URL", "https://idp.example.org/?x=1"),
        ("IDP_HOMEPORT_URL", "ftp://portal.example.org"),
        ("IDP_DEFAULT_PROVIDER", "Not A Slug"),
        ("IDP_LOGIN_TOKEN_TTL", "0"),
        ("IDP_LOGIN_TOKEN_TTL", "5 weeks"),
        ("IDP_SYNC_FIELDS", "first_name shoe_size"),
        ("IDP_ROLE_CLAIM", "/a~2b"),
        ("IDP_ROLE_CLAIM", "roles groups"),
        ("IDP_LOGIN_RATE_LIMIT", "-1"),
        ("IDP_REFRESH_INTERVAL", "often"),
        ("IDP_REFRESH_INTERVAL", "-5m"),
        ("IDP_REFRESH_INTERVAL", "6 hours"),
        ("IDP_AUDIT_RETENTION_DAYS", "0"),
        ("IDP_AUDIT_RETENTION_DAYS", "ten"),
        ("IDP_AUDIT_RETENTION_DAYS", "99999999999999999"),
    ] {
        let output = Command::new(BIN)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env(
                "IDP_DATABASE_URL",
                format!("sqlite://{}", database.display()),
            )
            .env("IDP_BIND", "127.0.0.1:0")
            .env(setting, value)
            .output()
            .expect("idp-server runs");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{setting}={value} was accepted");
        let named = stderr.contains(setting)
            || stderr.contains(
                &setting
                    .trim_start_matches("IDP_")
                    .to_lowercase()
                    .replace('_', "-"),
            );
        assert!(named, "{setting}={value}: {stderr}");
        assert!(
            !database.exists(),
            "{setting}={value}: the database was touched"
        );
    }
}
