//! Wire types of the hub, shared with every client.
//!
//! Everything a client sends or receives over REST or Socket.IO is a type in this crate, so the
//! contract lives in one place and the TypeScript SDK can be generated from it. The crate depends
//! on serde only: no server code, no I/O.
//!
//! # Layout
//! - [`ids`]: typed identifiers (`UserId`, `VentureId`, `TeamId`).
//! - [`roles`]: membership roles inside ventures and teams, and account roles carried by tokens.
//! - [`error`]: the one error envelope used by REST bodies and Socket.IO acks.
//! - [`rest`]: REST request and response bodies.
//! - [`realtime`]: Socket.IO event names, the ack envelope, diagnostics.
//! - [`rooms`]: rooms, presence and typing payloads. [`chat`]: chat payloads.
//! - [`docs`]: collaborative documents.
//! - [`notifications`]: stored notifications, a typed payload per kind.
//! - [`audit`], [`events`], [`activity`]: operators' reports, events in, the venture feed.
//! - [`auditlog`]: the Merkle log of audit and ledger entries, its proofs and checkpoints.
//! - [`profiles`], [`badges`], [`gamification`]: profiles, skills, endorsements, portfolio,
//!   badges, XP, levels, reputation, leaderboards.
//! - [`wallets`], [`equity`]: wallets, ledgers, BUZ issuance, conversion windows and equity.
//! - [`files`], [`clients`], [`signatures`]: uploaded documents, shares, comments, holds,
//!   clients, signing keys and signatures.
//! - [`server`]: the server API (publish, presence, disconnect, revoke) and its API keys.
//! - [`webhooks`]: webhook endpoints and their deliveries.
//!
//! `client-sdk/src/generated/protocol.ts` is generated from these types (see `ts` tests).

pub mod activity;
pub mod audit;
pub mod auditlog;
pub mod badges;
pub mod chat;
pub mod clients;
pub mod docs;
pub mod equity;
pub mod error;
pub mod events;
pub mod files;
pub mod gamification;
pub mod ids;
pub mod notifications;
pub mod profiles;
pub mod realtime;
pub mod rest;
pub mod roles;
pub mod rooms;
pub mod server;
pub mod signatures;
pub mod wallets;
pub mod webhooks;

#[cfg(test)]
mod ts;

pub use error::{ErrorBody, ErrorCode, ErrorDetail};
pub use ids::{
    ApiKeyId, ClientId, ConversionId, DeliveryId, DocId, FileId, InvitationId, KeyId, MessageId,
    NodeId, NotificationId, PublicationId, RoomId, ShareId, SignatureId, SocketId, TaskId, TeamId,
    UserId, VentureId, WalletId, WebhookId, WindowId,
};
pub use roles::{AccountRole, Role};
