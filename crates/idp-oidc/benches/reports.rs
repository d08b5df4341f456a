//! Building the metadata report and the suggested mapping for each discovery document: the
//! project's own documents, plus the real-world corpus when it is present (see `idp-fixtures`).

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use idp_fixtures::{DISCOVERY_CORPUS, Located};
use idp_oidc::DiscoveryDocument;

fn documents() -> Vec<(String, Vec<u8>)> {
    let mut sources = vec![(String::new(), idp_fixtures::discovery_dir())];
    // The corpus only widens the benchmark; its absence is not worth a word here.
    if let Located::Found(corpus) = DISCOVERY_CORPUS.locate() {
        sources.push(("corpus/".to_owned(), corpus));
    }
    sources
        .into_iter()
        .flat_map(|(prefix, dir)| {
            idp_fixtures::json_documents(&dir)
                .into_iter()
                .map(move |(stem, path)| (format!("{prefix}{stem}"), std::fs::read(path).unwrap()))
        })
        .collect()
}

fn reports(c: &mut Criterion) {
    for (name, bytes) in documents() {
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
