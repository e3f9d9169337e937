//! Generates the TypeScript of the wire types into `client-sdk/src/generated/protocol.ts`.
//! The test fails when that file is stale; `UPDATE_GENERATED=1 cargo test -p hub-protocol`
//! rewrites it.

use crate::activity::*;
use crate::audit::*;
use crate::badges::*;
use crate::chat::*;
use crate::clients::*;
use crate::docs::*;
use crate::equity::*;
use crate::error::{ErrorBody, ErrorCode, ErrorDetail};
use crate::events::*;
use crate::files::*;
use crate::gamification::*;
use crate::ids::{DocId, MessageId, RoomId, TeamId, UserId, VentureId};
use crate::notifications::*;
use crate::profiles::*;
use crate::realtime::{AckErr, ConnectRefusal, HandshakeAuth, Pong, client, server};
use crate::rest::*;
use crate::roles::{AccountRole, Role};
use crate::rooms::*;
use crate::signatures::*;
use crate::wallets::*;
use ts_rs::{Config, TS};

const GENERATED: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../client-sdk/src/generated/protocol.ts"
);

macro_rules! decls {
    ($cfg:expr; $($t:ty),* $(,)?) => {
        vec![$(format!("export {}", <$t as TS>::decl($cfg))),*]
    };
}

fn render() -> String {
    let cfg = &Config::new().with_large_int("number");
    let mut out = String::from(
        "// Generated from the hub's `protocol` crate. Do not edit by hand:\n\
         // run `UPDATE_GENERATED=1 cargo test -p hub-protocol` after changing a wire type.\n\n",
    );
    let types = decls!(cfg;
        UserId, VentureId, TeamId, RoomId, DocId, MessageId, Role, AccountRole, ErrorCode, ErrorDetail, ErrorBody, AckErr,
        HandshakeAuth, ConnectRefusal, Pong,
        RoomJoin, RoomJoined, RoomRef, PresenceStatus, PresenceEntry, PresenceSet, PresenceChanged,
        PresenceLeft, Typing, RoomRemoved, RoomRoleChanged,
        Message, ChatSend, MessageAck, ChatEdit, MessageRef, ChatReact, ChatHistory, MessagePage,
        Thread, ChatRead, Unread,
        Notification, NotificationBody, MentionData, MemberData, AuditBrokenData, LevelUpData,
        BadgeAwardedData, EndorsedData, SkillVerifiedData, BuzData, ConversionDecidedData,
        DocumentSharedData, DocumentCommentedData, SignatureData, FileCorruptedData,
        NotificationList, MarkRead, UnreadCount,
        CreateDoc, DocInfo, DocList, DocRef, DocJoined, DocRemoved,
        CreateVenture, CreateTeam, PutMember, Venture, VentureDetail, VentureList, Team, TeamDetail,
        Member, User, Me, Health, HealthServices, RoomSummary, RoomList,
        WormIntegrity, ScopeIntegrity, BrokenEntry, JobsHealth, JobStatus, JobRun,
        Activity, ActivityPage,
        TaskAccepted, ReviewEvent, BugEvent, KycEvent, DeviceEvent, ViolationEvent, EventAccepted,
        Theme, Profile, ProfileBadge, ProfileSkill, ProfilePatch, Skill, SkillList, AddSkill, Endorse,
        Endorsement, NewPortfolioItem, PortfolioItem, Portfolio,
        Badge, BadgeList, CreateBadge, PatchBadge, AwardBadge, BadgeAward,
        Leaderboard, LeaderboardEntry, GamificationStatus, BadgeCount,
        Wallet, LedgerEntry, LedgerPage, WalletVerify, BrokenLedgerEntry, WithheldBuz, WithheldList,
        BuzOutcome, WalletUpdated, Adjust,
        ConversionWindow, CreateWindow, ActiveWindow, WindowList, ConvertRequest, Conversion, Decide,
        ConversionList,
        FileDoc, FileList, NewShare, Share, ShareList, SharedDoc, NewComment, Comment, CommentList, Hold,
        Client, NewClient, PatchClient, ClientList,
        NewKey, SigningKey, KeyList, RequestSignature, Sign, Signature, SignatureList,
    );
    for t in types {
        out.push_str(&t);
        out.push_str("\n\n");
    }
    out.push_str(
        "/** The ack of every client event: the payload beside `ok: true`, or an error. */\n\
         export type Ack<T> = ({ ok: true } & T) | AckErr;\n\n",
    );
    let consts = |name: &str, pairs: &[(&str, &str)]| {
        let mut s = format!("export const {name} = {{\n");
        for (k, v) in pairs {
            s.push_str(&format!("  {k}: \"{v}\",\n"));
        }
        s.push_str("} as const;\n\n");
        s
    };
    out.push_str(&consts(
        "ClientEvents",
        &[
            ("SYS_PING", client::SYS_PING),
            ("SYS_ECHO", client::SYS_ECHO),
            ("ROOM_JOIN", client::ROOM_JOIN),
            ("ROOM_LEAVE", client::ROOM_LEAVE),
            ("PRESENCE_SET", client::PRESENCE_SET),
            ("TYPING_START", client::TYPING_START),
            ("TYPING_STOP", client::TYPING_STOP),
            ("CHAT_SEND", client::CHAT_SEND),
            ("CHAT_EDIT", client::CHAT_EDIT),
            ("CHAT_DELETE", client::CHAT_DELETE),
            ("CHAT_REACT", client::CHAT_REACT),
            ("CHAT_HISTORY", client::CHAT_HISTORY),
            ("CHAT_THREAD", client::CHAT_THREAD),
            ("CHAT_READ", client::CHAT_READ),
            ("DOC_JOIN", client::DOC_JOIN),
            ("DOC_LEAVE", client::DOC_LEAVE),
            ("DOC_MSG", client::DOC_MSG),
        ],
    ));
    out.push_str(&consts(
        "ServerEvents",
        &[
            ("PRESENCE_JOIN", server::PRESENCE_JOIN),
            ("PRESENCE_UPDATE", server::PRESENCE_UPDATE),
            ("PRESENCE_LEAVE", server::PRESENCE_LEAVE),
            ("TYPING", server::TYPING),
            ("CHAT_MESSAGE", server::CHAT_MESSAGE),
            ("CHAT_UPDATED", server::CHAT_UPDATED),
            ("NOTIFICATION", server::NOTIFICATION),
            ("ROOM_REMOVED", server::ROOM_REMOVED),
            ("ROOM_ROLE", server::ROOM_ROLE),
            ("ACTIVITY", server::ACTIVITY),
            ("LEADERBOARD", server::LEADERBOARD),
            ("WALLET_UPDATED", server::WALLET_UPDATED),
            ("DOC_MSG", server::DOC_MSG),
            ("DOC_REMOVED", server::DOC_REMOVED),
            ("DOC_ERROR", server::DOC_ERROR),
        ],
    ));
    out.push_str(&format!(
        "/** The most messages a `room:join` with `since` returns. */\nexport const MISSED_LIMIT = {MISSED_LIMIT};\n"
    ));
    out
}

#[test]
fn generated_typescript_is_up_to_date() {
    let fresh = render();
    if std::env::var_os("UPDATE_GENERATED").is_some() {
        let path = std::path::Path::new(GENERATED);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, &fresh).unwrap();
        return;
    }
    let current = std::fs::read_to_string(GENERATED).unwrap_or_default();
    assert!(
        current == fresh,
        "client-sdk/src/generated/protocol.ts is stale: run `UPDATE_GENERATED=1 cargo test -p hub-protocol`"
    );
}
