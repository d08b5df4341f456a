//! temporary
use std::io::{Read, Write};
use std::net::TcpStream;

#[path = "hostile.rs"]
#[allow(dead_code)]
mod hostile;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scratch() {
    for backend in [idp_store::Backend::Sqlite, idp_store::Backend::Postgres] {
        let (context, _db) = hostile::spawn_app_for_scratch(backend).await;
        let port = context.0;
        let staff = context.1.clone();
        let out = tokio::task::spawn_blocking(move || {
            let mut results = Vec::new();
            for (method, path, body) in [
                ("PATCH", "/api/identity-providers/generic/", r#"{"attribute_mapping": {"email": "a\u0000b"}}"#),
                ("PATCH", "/api/identity-providers/generic/", r#"{"attribute_mapping": {"email": "a\ud800b"}}"#),
                ("GET", "/api/identity-providers/a%00b/", ""),
                ("PATCH", "/api/identity-providers/generic/", r#"{"label": "ok"}"#),
            ] {
                let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
                let req = format!("{method} {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Token {staff}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len());
                s.write_all(req.as_bytes()).unwrap();
                let mut a = String::new();
                s.read_to_string(&mut a).unwrap();
                results.push(format!("{method} {path} {body} -> {}", a.lines().next().unwrap_or("")));
            }
            results
        }).await.unwrap();
        eprintln!("{backend:?}: {out:#?}");
    }
}
