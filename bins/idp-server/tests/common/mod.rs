//! What the binary's test suites share: a free loopback port, the server started as a
//! process, and a loopback discovery document.

// Each test binary uses a part of this module.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// A loopback port nothing listens on (at the time of asking).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A running server (killed when dropped).
pub struct Server {
    pub child: Child,
    pub base: String,
}

impl Server {
    /// Starts `serve` with `command`'s environment; on a first start (no staff user yet) the
    /// printed admin key is returned.
    pub fn start(mut command: Command, first_start: bool, stderr: Stdio) -> (Self, Option<String>) {
        let port = free_port();
        let mut child = command
            .args([
                "serve",
                "--bind",
                &format!("127.0.0.1:{port}"),
                "--workers",
                "2",
            ])
            .stdout(if first_start {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stderr(stderr)
            .spawn()
            .unwrap();
        let admin_key = first_start.then(|| {
            let stdout = child.stdout.take().unwrap();
            BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
                .find(|line| line.len() == 40 && line.bytes().all(|b| b.is_ascii_hexdigit()))
                .expect("the first start prints the admin key")
        });
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Some(status) = child.try_wait().unwrap() {
                panic!("the server exited before listening: {status}");
            }
            assert!(
                Instant::now() < deadline,
                "the server did not start listening"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        let base = format!("http://127.0.0.1:{port}");
        (Self { child, base }, admin_key)
    }

    /// SIGKILL: no shutdown code runs at all.
    pub fn kill_9(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// Fails the test if the process has exited.
    pub fn assert_running(&mut self) {
        assert!(
            self.child.try_wait().unwrap().is_none(),
            "the server process exited"
        );
    }

    /// SIGTERM, then waits for the exit (so every log line is written) and returns its status.
    pub fn terminate(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let deadline = Instant::now() + Duration::from_secs(40);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "the server did not stop after SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Serves a discovery document for `name` on the loopback IdP and returns its URL.
pub async fn serve_discovery(idp: &MockServer, name: &str) -> String {
    let base = idp.uri();
    let document = json!({
        "issuer": format!("{base}/{name}"),
        "authorization_endpoint": format!("{base}/{name}/auth"),
        "token_endpoint": format!("{base}/{name}/token"),
        "userinfo_endpoint": format!("{base}/{name}/userinfo"),
        "claims_supported": ["sub", "email", "given_name"],
        "scopes_supported": ["openid", "email", "profile"],
    });
    let route = format!("/{name}/.well-known/openid-configuration");
    Mock::given(method("GET"))
        .and(path(route.clone()))
        .respond_with(ResponseTemplate::new(200).set_body_json(document))
        .mount(idp)
        .await;
    format!("{base}{route}")
}
