//! The project itself (the floors of `src/`, the fuzz of the real binary, the OpenAPI document,
//! operations, the README run as written): one test binary, so the hub is linked once for all of
//! them. A real hub per test, on SQLite and on Postgres (`<suite>::<test>::sqlite`, `…::postgres`),
//! with real clients. Run one suite with `cargo test --test project <suite>::`.

#[macro_use]
#[path = "../common/mod.rs"]
mod common;

mod floors;
mod fuzz;
mod openapi;
mod operations;
mod readme;
