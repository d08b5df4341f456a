//! Request-body parsing: bytes → JSON → `NewProvider::parse`, `ProviderUpdate::parse`,
//! `DiscoveryRequest::parse`, `AttributeMapping::parse` (see `idp_fuzz::request_body`).

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| idp_fuzz::request_body(data));
