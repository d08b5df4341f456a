//! `idp-server inspect` on a loopback copy of every own discovery document (and of the real-world
//! corpus when it is present): the JSON output equals the golden `discover_metadata` answer, the
//! table names the suggested mapping, and failures are one line with a non-zero exit.

use std::path::{Path, PathBuf};
use std::process::Command;

use idp_fixtures::DISCOVERY_CORPUS;
use serde_json::Value;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const BIN: &str = env!("CARGO_BIN_EXE_idp-server");

fn inspect(args: &[&str]) -> std::process::Output {
    Command::new(BIN)
        .arg("inspect")
        .args(args)
        .env("IDP_DISCOVERY_ALLOW_NETWORKS", "127.0.0.0/8")
        .output()
        .expect("idp-server runs")
}

/// Serves every document of `documents` on loopback and checks `inspect` against
/// `<golden>/<stem>.discover_metadata.json`. Returns how many documents were checked.
async fn check_documents(documents: &Path, golden: &Path) -> usize {
    let idp = MockServer::start().await;
    let files = idp_fixtures::json_documents(documents);
    for (stem, file) in &files {
        let route = format!("/{stem}/.well-known/openid-configuration");
        Mock::given(method("GET"))
            .and(path(route.clone()))
            .respond_with(
                ResponseTemplate::new(200).set_body_string(std::fs::read_to_string(file).unwrap()),
            )
            .mount(&idp)
            .await;
        let url = format!("{}{route}", idp.uri());
        let expected: Value = serde_json::from_str(
            &std::fs::read_to_string(golden.join(format!("{stem}.discover_metadata.json")))
                .unwrap(),
        )
        .unwrap();
        let json = tokio::task::spawn_blocking({
            let url = url.clone();
            move || inspect(&[&url, "--json"])
        })
        .await
        .unwrap();
        if let Some(messages) = expected.get("discovery_url") {
            assert!(!json.status.success(), "{stem} must fail");
            let stderr = String::from_utf8_lossy(&json.stderr);
            assert_eq!(stderr.trim().lines().count(), 1, "{stem}: {stderr}");
            // The golden answer is the API's wording; the command says what went wrong in the
            // library's own words.
            let error = idp_oidc::DiscoveryDocument::from_json(&std::fs::read(file).unwrap())
                .and_then(|document| document.metadata_report())
                .expect_err("the golden answer is an error");
            assert_eq!(
                stderr.trim(),
                format!("error: cannot report on the discovery document: {error}"),
                "{stem}"
            );
            assert!(
                !messages[0].as_str().unwrap_or_default().is_empty(),
                "{stem}"
            );
            continue;
        }
        assert!(
            json.status.success(),
            "{stem}: {}",
            String::from_utf8_lossy(&json.stderr)
        );
        let printed: Value = serde_json::from_slice(&json.stdout).unwrap();
        assert_eq!(printed, expected, "{stem}");
        let table = tokio::task::spawn_blocking(move || inspect(&[&url]))
            .await
            .unwrap();
        assert!(table.status.success());
        let text = String::from_utf8(table.stdout).unwrap();
        let auth = expected["endpoints"]["authorization_endpoint"]
            .as_str()
            .unwrap();
        assert!(text.contains(auth), "{stem}: the table shows the endpoints");
    }
    files.len()
}

#[tokio::test]
async fn inspect_reports_every_own_document_as_discover_metadata_does() {
    let checked =
        check_documents(&idp_fixtures::discovery_dir(), &idp_fixtures::golden_dir()).await;
    assert!(checked >= 12, "{checked} documents");
}

#[tokio::test]
async fn inspect_reports_the_real_world_corpus_as_discover_metadata_does() {
    let test = "inspect_reports_the_real_world_corpus_as_discover_metadata_does";
    let Some(corpus) = DISCOVERY_CORPUS.path_for_test(test) else {
        return;
    };
    let golden =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../crates/idp-oidc/tests/golden");
    let checked = check_documents(&corpus, &golden).await;
    assert!(checked > 0, "{} holds no documents", corpus.display());
}

#[test]
fn inspect_of_a_refused_address_is_one_line_and_a_failure() {
    let output = Command::new(BIN)
        .args(["inspect", "http://169.254.169.254/x"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert_eq!(
        String::from_utf8_lossy(&output.stderr).trim(),
        "error: cannot fetch the discovery document: the SSRF guard refused the URL: \
         URL host resolves to a disallowed address (169.254.169.254)."
    );
}

/// `inspect --client-id --client-secret-file` runs the probe's checks against the real OpenID
/// Provider: the right secret passes (exit 0), a wrong one fails the credentials check (non-zero
/// exit); neither prints the secret.
#[test]
fn inspect_probes_the_real_provider_with_a_client() {
    use idp_oidc::testing::{RealProvider, RegisteredClient};
    let secret = "inspect: s3cr%t-of-the-client";
    let registered = RegisteredClient {
        client_id: "inspect-client".into(),
        client_secret: secret.into(),
        redirect_uris: vec!["https://localhost/api-auth/inspect/complete/".into()],
        token_endpoint_auth_method: "client_secret_basic".into(),
        pkce_required: true,
        id_token_signed_response_alg: None,
    };
    let real = RealProvider::start(&[registered]).unwrap_or_else(|error| panic!("{error}"));
    let dir = tempfile::tempdir().unwrap();
    let right = dir.path().join("right");
    let wrong = dir.path().join("wrong");
    std::fs::write(&right, format!("{secret}\n")).unwrap();
    std::fs::write(&wrong, "not-the-secret\n").unwrap();
    let url = real.discovery_url();
    let probe = |file: &Path, json: bool| {
        let mut args = vec![
            url.as_str(),
            "--client-id",
            "inspect-client",
            "--client-secret-file",
            file.to_str().unwrap(),
            "--pkce",
            // Chooses client_secret_basic, the method the client is registered with.
            "--provider",
            "tara",
            "--extra-scope",
            "profile email",
            "--claims",
            "email /realm_access/roles employee_number",
        ];
        if json {
            args.push("--json");
        }
        let output = inspect(&args);
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(
            !text.contains(secret) && !text.contains("not-the-secret"),
            "{text}"
        );
        output
    };

    let output = probe(&right, true);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let checks: Value = serde_json::from_slice(&output.stdout).unwrap();
    let status = |checks: &Value, name: &str| {
        checks
            .as_array()
            .unwrap()
            .iter()
            .find(|check| check["check"] == name)
            .map(|check| check["status"].as_str().unwrap().to_owned())
            .unwrap()
    };
    assert_eq!(checks.as_array().unwrap().len(), 9);
    assert_eq!(status(&checks, "client_credentials"), "pass");
    assert_eq!(status(&checks, "pkce"), "pass");
    assert_eq!(status(&checks, "claims"), "warn");
    // The table: one line per check.
    let output = probe(&right, false);
    let table = String::from_utf8_lossy(&output.stdout);
    assert_eq!(table.lines().count(), 9, "{table}");
    assert!(table.contains("client_credentials   pass"), "{table}");
    assert!(table.contains("client_secret_basic"), "{table}");

    let output = probe(&wrong, true);
    assert!(!output.status.success());
    let checks: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(status(&checks, "client_credentials"), "fail");
    assert_eq!(
        String::from_utf8_lossy(&output.stderr).trim(),
        "error: failed checks: client_credentials"
    );

    // A missing secret file is one line naming the file, and no probe.
    let output = inspect(&[
        &url,
        "--client-id",
        "x",
        "--client-secret-file",
        "/nonexistent/secret",
    ]);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("/nonexistent/secret"));
}
