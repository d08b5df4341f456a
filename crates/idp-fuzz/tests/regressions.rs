//! Replays, on stable with a plain `cargo test`, every input the fuzz targets start from
//! (`seeds/<target>/`) and every crash input they ever found (`regressions/<target>/`, where
//! `cargo xtask fuzz` copies them) through the same harness functions as the fuzz targets.
//! Each input is replayed on its own so that one failure names its file and the others still
//! run.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use idp_fuzz::TARGETS;

fn inputs(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| path.is_file())
        .filter(|path| {
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            !name.starts_with('.') && !name.ends_with(".md")
        })
        .collect();
    files.sort();
    files
}

/// Replays every file of `kind/<target>/` and returns how many there were.
fn replay(kind: &str, target: &str, harness: fn(&[u8])) -> usize {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(kind)
        .join(target);
    let files = inputs(&dir);
    let mut failures = Vec::new();
    for path in &files {
        let bytes = std::fs::read(path).expect("a readable input");
        if let Err(panic) = catch_unwind(AssertUnwindSafe(|| harness(&bytes))) {
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_default();
            let shown: String = message.chars().take(2000).collect();
            failures.push(format!("{}: {shown}", path.display()));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} inputs of {kind}/{target} fail:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
    files.len()
}

#[test]
fn seed_corpus_passes_every_harness() {
    for (target, harness) in TARGETS {
        let count = replay("seeds", target, harness);
        assert!(count > 0, "seeds/{target} is empty");
        eprintln!("seeds/{target}: {count} inputs");
    }
    // The twenty real discovery documents are all in the corpus.
    let documents = inputs(&Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds/discovery_document"));
    assert!(documents.len() >= 20, "{documents:?}");
}

#[test]
fn crash_inputs_found_by_fuzzing_stay_fixed() {
    for (target, harness) in TARGETS {
        let count = replay("regressions", target, harness);
        eprintln!("regressions/{target}: {count} inputs");
    }
}

/// The harnesses themselves catch what they are meant to: a real document passes, and bytes
/// that are not JSON are answered without a panic.
#[test]
fn harnesses_accept_plain_inputs() {
    idp_fuzz::request_body(b"");
    idp_fuzz::request_body(b" \n");
    idp_fuzz::request_body(b"{\"provider\": \"x\"");
    idp_fuzz::request_body(b"[1, {\"a\": null}]");
    idp_fuzz::discovery_document(b"\xEF\xBB\xBF{}");
    idp_fuzz::discovery_document(b"\xff\xfe");
}
