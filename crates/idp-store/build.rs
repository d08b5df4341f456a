//! Builds the embedded migrations again whenever a migration directory is added.

// A new migration directory is not tracked by `embed_migrations!` on its own.
fn main() {
    println!("cargo:rerun-if-changed=../../migrations");
}
