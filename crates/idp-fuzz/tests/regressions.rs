//! Replays, on stable with a plain `cargo test`, every input the fuzz targets start from
//! (`seeds/<target>/`, and for `discovery_document` the project's own discovery documents in
//! `fixtures/discovery/`) and every crash input they ever found (`regressions/<target>/`, where
//! `cargo xtask fuzz` copies them) through the same harness functions as the fuzz targets.
//! Each input is replayed on its own so that one failure names its file and the others still
//! run. The real-world discovery corpus, when present, is replayed as an extra suite.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use idp_fixtures::DISCOVERY_CORPUS;
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

/// The directories whose files seed `target`: its committed seeds and, for discovery documents,
/// the project's own discovery documents (kept once, in `fixtures/discovery/`).
fn seed_dirs(target: &str) -> Vec<PathBuf> {
    let mut dirs = vec![
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("seeds")
            .join(target),
    ];
    if target == "discovery_document" {
        dirs.push(idp_fixtures::discovery_dir());
    }
    dirs
}

/// Replays every file of `dir` and returns how many there were.
fn replay(dir: &Path, harness: fn(&[u8])) -> usize {
    let files = inputs(dir);
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
        "{} of {} inputs of {} fail:\n{}",
        failures.len(),
        files.len(),
        dir.display(),
        failures.join("\n")
    );
    files.len()
}

#[test]
fn seed_corpus_passes_every_harness() {
    for (target, harness) in TARGETS {
        let count: usize = seed_dirs(target)
            .iter()
            .map(|dir| replay(dir, harness))
            .sum();
        assert!(count > 0, "no seeds for {target}");
        eprintln!("seeds of {target}: {count} inputs");
    }
    // The own discovery documents are all in the corpus.
    let documents = inputs(&idp_fixtures::discovery_dir());
    assert!(documents.len() >= 12, "{documents:?}");
}

#[test]
fn crash_inputs_found_by_fuzzing_stay_fixed() {
    for (target, harness) in TARGETS {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("regressions")
            .join(target);
        let count = replay(&dir, harness);
        eprintln!("regressions/{target}: {count} inputs");
    }
}

#[test]
fn real_world_corpus_passes_the_document_harness() {
    let Some(corpus) =
        DISCOVERY_CORPUS.path_for_test("real_world_corpus_passes_the_document_harness")
    else {
        return;
    };
    let count = replay(&corpus, idp_fuzz::discovery_document);
    assert!(count > 0, "{} holds no documents", corpus.display());
}

/// The harnesses themselves catch what they are meant to: a plain document passes, and bytes
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
