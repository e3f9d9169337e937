//! Several nodes (hub processes and in-process nodes over the local bus and Redis, Redis and
//! database outages): one test binary, so the hub is linked once for all of them. A real hub per
//! test, on SQLite and on Postgres (`<suite>::<test>::sqlite`, `…::postgres`), with real clients.
//! Run one suite with `cargo test --test cluster <suite>::`.

#[macro_use]
#[path = "../common/mod.rs"]
mod common;

mod cluster;
mod cluster_local;
mod outage;
mod redis_bus;
mod server_api;
mod sharded;
mod webhooks;
