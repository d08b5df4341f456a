//! The three-instance run on PostgreSQL: writes on one instance, reads on the two others, and
//! how long until every instance serves each write.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

/// Times until a write is served everywhere, in milliseconds, sorted.
pub(super) struct Visibility {
    pub(super) samples: Vec<f64>,
}

impl Visibility {
    /// The `q` quantile (0 to 1).
    pub(super) fn quantile(&self, q: f64) -> f64 {
        if self.samples.is_empty() {
            return f64::NAN;
        }
        let at = ((self.samples.len() - 1) as f64 * q).round() as usize;
        self.samples[at]
    }
}

/// One HTTP/1.1 exchange on a fresh loopback connection: the status and the body.
pub(super) fn request(
    base: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> Result<(u16, String, String)> {
    let address = base.trim_start_matches("http://");
    let mut stream = TcpStream::connect(address).context("connecting")?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut text = format!("{method} {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n");
    for (name, value) in headers {
        text.push_str(&format!("{name}: {value}\r\n"));
    }
    if let Some(body) = body {
        text.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    text.push_str("\r\n");
    text.push_str(body.unwrap_or_default());
    stream.write_all(text.as_bytes())?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer)?;
    let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .context("a status line")?;
    Ok((status, head.to_owned(), body.to_owned()))
}

/// The value of header `name` in a response head.
pub(super) fn header(head: &str, name: &str) -> Option<String> {
    head.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        key.trim()
            .eq_ignore_ascii_case(name)
            .then(|| value.trim().to_owned())
    })
}

/// `writes` PATCHes of provider `name`'s label on `writer`; after each, reads it on every
/// `reader` in turn until each serves the new label. Returns the time from the PATCH's answer
/// until the last reader served it.
pub(super) fn measure(
    writer: &str,
    readers: &[String],
    token: &str,
    name: &str,
    writes: usize,
) -> Result<Visibility> {
    let auth = format!("Token {token}");
    let path = format!("/api/identity-providers/{name}/");
    let mut samples = Vec::with_capacity(writes);
    for i in 0..writes {
        let label = format!("Propagated {i}");
        let body = format!("{{\"label\": \"{label}\"}}");
        let (status, _, answer) = request(
            writer,
            "PATCH",
            &path,
            &[("Authorization", &auth)],
            Some(&body),
        )?;
        if status != 200 {
            bail!("PATCH answered {status}: {answer}");
        }
        let written = Instant::now();
        let deadline = written + Duration::from_secs(30);
        let mut pending: Vec<&String> = readers.iter().collect();
        while !pending.is_empty() {
            if Instant::now() > deadline {
                bail!("a write was not served everywhere within 30 s");
            }
            let mut still = Vec::new();
            for reader in pending {
                let (_, _, seen) = request(reader, "GET", &path, &[], None)?;
                if !seen.contains(&label) {
                    still.push(reader);
                }
            }
            pending = still;
        }
        samples.push(written.elapsed().as_secs_f64() * 1000.0);
    }
    samples.sort_by(f64::total_cmp);
    Ok(Visibility { samples })
}
