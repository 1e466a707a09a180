//! Marks a build made without `TEST_DATABASE_URL`, so that the PostgreSQL
//! variants of the integration tests show as ignored rather than passed.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(learnmap_no_postgres)");
    println!("cargo::rerun-if-env-changed=TEST_DATABASE_URL");
    if std::env::var_os("TEST_DATABASE_URL").is_none_or(|url| url.is_empty()) {
        println!("cargo::rustc-cfg=learnmap_no_postgres");
    }
}
