//! Real time on one node (the clock, documents, hostile clients, limits, identity and access over
//! REST, rooms and chat, Socket.IO conformance and interop with stock clients): one test binary, so
//! the hub is linked once for all of them. A real hub per test, on SQLite and on Postgres
//! (`<suite>::<test>::sqlite`, `…::postgres`), with real clients. Run one suite with `cargo test
//! --test realtime <suite>::`.

#[macro_use]
#[path = "../common/mod.rs"]
mod common;

mod clock;
mod docs;
mod hostile;
mod jwks;
mod limits;
mod rest_identity;
mod rooms_chat;
mod rooms_interop;
mod socketio_conformance;
mod socketio_interop;
