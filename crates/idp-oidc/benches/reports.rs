//! Building the metadata report and the suggested mapping for each fixture document.

use std::hint::black_box;
use std::path::PathBuf;

use criterion::{Criterion, criterion_group, criterion_main};
use idp_oidc::DiscoveryDocument;

fn fixtures() -> Vec<(String, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/discovery");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("the fixtures beside the repository")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            (
                p.file_stem().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect()
}

fn reports(c: &mut Criterion) {
    for (name, bytes) in fixtures() {
        let document = DiscoveryDocument::from_json(&bytes).expect("a fixture parses");
        c.bench_function(&format!("parse {name}"), |b| {
            b.iter(|| DiscoveryDocument::from_json(black_box(&bytes)))
        });
        c.bench_function(&format!("report {name}"), |b| {
            b.iter(|| black_box(&document).metadata_report())
        });
        c.bench_function(&format!("mapping {name}"), |b| {
            b.iter(|| black_box(&document).generate_mapping())
        });
    }
}

criterion_group!(benches, reports);
criterion_main!(benches);
