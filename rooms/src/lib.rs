//! The sans-IO core of the hub: rules that can be decided without a socket, a database or a
//! clock of their own. The server calls these; unit tests call them directly.
//!
//! # Layout
//! - [`conns`]: how many connections a user and an address hold, and how fast they open.
//! - [`room`]: room names (`venture:{id}`, `team:{id}`, `user:{id}`), parsed strictly.
//! - [`access`]: who may change whose membership, and the last-owner invariant.
//! - [`presence`]: per-user presence from per-connection events, with reconnect grace.
//! - [`typing`]: typing indicators with expiry.
//! - [`chat`]: message limits, mentions, send rate, history paging.
//! - [`doc`]: the y-sync session of a document; [`ywire`]: its frames read within bounds
//!   before yrs decodes them. [`rate`]: token buckets.
//! - [`audit`]: the WORM chain. [`events`]: events in. [`fields`]: field checks.
//! - [`gamification`]: XP, levels, reputation. [`badges`]: badge rules. [`profiles`]:
//!   profiles, skills, endorsements, portfolio. [`wallets`]: BUZ issuance, the ledger chain,
//!   equity and conversion windows.
//! - [`files`]: uploads, ranges, shares, clients, comments. [`signatures`]: P-256 keys and
//!   signatures.

pub mod access;
pub mod audit;
pub mod badges;
pub mod chat;
pub mod checkpoint;
pub mod conns;
pub mod doc;
pub mod events;
pub mod fields;
pub mod files;
pub mod gamification;
pub mod merkle;
pub mod presence;
pub mod profiles;
pub mod rate;
pub mod room;
pub mod server;
pub mod signatures;
pub mod typing;
pub mod wallets;
pub mod webhooks;
pub mod ywire;

pub use access::{Actor, Denied, MemberChange, check_member_change};
pub use room::{RoomName, RoomNameError};
