//! The domain over REST (ventures' feed, the audit log and its Merkle checkpoints, badges, bursts
//! of writes, equity, events, files on disk and in S3, gamification, notifications, profiles,
//! wallets): one test binary, so the hub is linked once for all of them. A real hub per test, on
//! SQLite and on Postgres (`<suite>::<test>::sqlite`, `…::postgres`), with real clients. Run one
//! suite with `cargo test --test domain <suite>::`.

#[macro_use]
#[path = "../common/mod.rs"]
mod common;

mod activity;
mod audit;
mod badges;
mod bursts;
mod equity;
mod events;
mod files;
mod files_s3;
mod gamification;
mod notifications;
mod profiles;
mod services;
mod wallets;
