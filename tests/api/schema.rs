//! The committed SDL matches the schema the code builds.

#[test]
fn schema_graphql_is_current() {
    let committed = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql"))
        .expect("schema.graphql is committed");
    let current = learnmap::graphql::sdl();
    assert!(
        committed == current,
        "schema.graphql is stale: run `cargo run -- print-schema > schema.graphql`"
    );
}
