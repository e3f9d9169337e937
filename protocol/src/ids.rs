//! Typed identifiers. They are plain strings on the wire (`#[serde(transparent)]`), but never
//! interchangeable in code: a `TeamId` cannot be passed where a `VentureId` is expected.

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! string_id {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ts_rs::TS, utoipa::ToSchema)]
        #[serde(transparent)]
        pub struct $name(pub String);

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<String> for $name {
            fn from(s: String) -> Self {
                Self(s)
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                Self(s.to_owned())
            }
        }
    };
}

string_id!(
    /// A user, as named by the `sub` claim of the tokens the platform issues.
    UserId
);
string_id!(
    /// A venture (UUID v7 text, assigned by the hub).
    VentureId
);
string_id!(
    /// A team inside a venture (UUID v7 text, assigned by the hub).
    TeamId
);
string_id!(
    /// A room, in its canonical text form: `venture:{id}`, `team:{id}` or `user:{id}` (the
    /// rules crate parses it into a `RoomName`).
    RoomId
);
string_id!(
    /// A collaborative document (UUID v7 text, assigned by the hub).
    DocId
);
string_id!(
    /// A chat message (UUID v7 text, assigned by the hub).
    MessageId
);
string_id!(
    /// A hub node, unique in a cluster (`HUB_NODE_ID`).
    NodeId
);
string_id!(
    /// A Socket.IO connection, unique on its node.
    SocketId
);
string_id!(
    /// A client of a user's (a company or person their documents are shared with; UUID v7 text,
    /// assigned by the hub).
    ClientId
);
string_id!(
    /// An uploaded document (`documents` on the wire, `files` in code; UUID v7 text, assigned by
    /// the hub).
    FileId
);
string_id!(
    /// A share of an uploaded document, to a user or a client (UUID v7 text).
    ShareId
);
string_id!(
    /// A webhook endpoint (UUID v7 text).
    WebhookId
);
string_id!(
    /// A webhook delivery: the `webhook-id` header, the same on every try (`msg_` and a UUID v7).
    DeliveryId
);
string_id!(
    /// An API key of the server API (UUID v7 text).
    ApiKeyId
);
string_id!(
    /// A publication of the server API (UUID v7 text).
    PublicationId
);
string_id!(
    /// A user's signing key (UUID v7 text).
    KeyId
);
string_id!(
    /// A signature of an uploaded document, or a request for one (UUID v7 text).
    SignatureId
);
string_id!(
    /// A user's BUZ wallet (UUID v7 text).
    WalletId
);
string_id!(
    /// A conversion window (UUID v7 text).
    WindowId
);
string_id!(
    /// A request to convert BUZ into equity (UUID v7 text).
    ConversionId
);
string_id!(
    /// A task of the platform's, as its events name it.
    TaskId
);
string_id!(
    /// A stored notification (UUID v7: ids order by time).
    NotificationId
);
string_id!(
    /// An invitation to a venture or a team (UUID v7 text).
    InvitationId
);
