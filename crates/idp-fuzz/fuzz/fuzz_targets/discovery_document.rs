//! Discovery-document parsing: bytes → `DiscoveryDocument::from_json` → endpoints, mapping,
//! report and its rendering (see `idp_fuzz::discovery_document`).

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| idp_fuzz::discovery_document(data));
