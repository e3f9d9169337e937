//! Generates the TypeScript of the wire types into `client-sdk/src/generated/protocol.ts`.
//! The test fails when that file is stale; `UPDATE_GENERATED=1 cargo test -p hub-protocol`
//! rewrites it.

use crate::activity::*;
use crate::audit::*;
use crate::auditlog::*;
use crate::badges::*;
use crate::chat::*;
use crate::clients::*;
use crate::docs::*;
use crate::equity::*;
use crate::error::{ErrorBody, ErrorCode, ErrorDetail};
use crate::events::*;
use crate::files::*;
use crate::gamification::*;
use crate::ids::{
    ApiKeyId, ClientId, ConversionId, DeliveryId, DocId, FileId, InvitationId, KeyId, MessageId,
    NotificationId, PublicationId, RoomId, ShareId, SignatureId, TaskId, TeamId, UserId, VentureId,
    WalletId, WebhookId, WindowId,
};
use crate::notifications::*;
use crate::profiles::*;
use crate::realtime::{
    AckErr, ConnectRefusal, Done, Echo, Echoed, EventTs, HandshakeAuth, Pong, client, server,
};
use crate::rest::*;
use crate::roles::{AccountRole, Role};
use crate::rooms::*;
use crate::server::*;
use crate::signatures::*;
use crate::wallets::*;
use crate::webhooks::*;
use ts_rs::{Config, TS};

const GENERATED: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../client-sdk/src/generated/protocol.ts"
);

/// Every wire type, in the order of the generated file: `wire_types!(m, arg)` expands to
/// `m!(arg; T1, T2, ...)`.
macro_rules! wire_types {
    ($m:ident, $arg:expr) => {
        $m!($arg;
        UserId, VentureId, TeamId, RoomId, DocId, MessageId, ClientId, FileId, ShareId, KeyId, SignatureId,
        WalletId, WindowId, ConversionId, TaskId, NotificationId, InvitationId, Role, AccountRole, ErrorCode, ErrorDetail, ErrorBody, AckErr,
        HandshakeAuth, ConnectRefusal, Pong, Done, Echo, Echoed,
        RoomJoin, RoomJoined, RoomRef, PresenceStatus, PresenceEntry, PresenceSet, PresenceChanged,
        PresenceLeft, Typing, RoomRemoved, RoomRoleChanged,
        Message, ChatSend, MessageAck, ChatEdit, MessageRef, ChatReact, ChatHistory, MessagePage,
        Thread, ChatRead, Unread,
        Notification, NotificationBody, MentionData, MemberData, AuditBrokenData, LevelUpData,
        BadgeAwardedData, EndorsedData, SkillVerifiedData, BuzData, ConversionDecidedData,
        DocumentSharedData, DocumentCommentedData, SignatureData, FileCorruptedData,
        NotificationList, MarkRead, UnreadCount,
        CreateDoc, DocInfo, DocList, DocRef, DocJoined, DocRemoved, DocError,
        CreateVenture, CreateTeam, PutMember, Venture, VentureDetail, VentureList, Team, TeamDetail,
        Member, MemberSet, Invitation, InvitationList, User, Me, Health, HealthServices, RoomSummary, RoomList, DevToken, DevTokenIssued, SampleTask,
        WormIntegrity, ScopeIntegrity, BrokenEntry, JobsHealth, JobStatus, JobRun,
        AuditRecord, LedgerRecord, LogEntry, LogEntryPage, InclusionProof, ConsistencyProof, AuditKey,
        CheckpointInfo, CheckpointList,
        Activity, ActivityPage,
        TaskAccepted, ReviewEvent, BugEvent, KycEvent, DeviceEvent, ViolationEvent, EventAccepted,
        Theme, Profile, ProfileBadge, ProfileSkill, ProfilePatch, Skill, SkillList, AddSkill, Endorse,
        Endorsement, NewPortfolioItem, PortfolioItem, VerifiedTask, Portfolio,
        Badge, BadgeList, CreateBadge, PatchBadge, AwardBadge, BadgeAward, EvaluateBadges, BadgesEvaluated,
        Leaderboard, LeaderboardEntry, GamificationStatus, BadgeCount,
        Wallet, LedgerEntry, LedgerPage, WalletVerify, BrokenLedgerEntry, WithheldBuz, WithheldList,
        BuzOutcome, WalletUpdated, Adjust,
        ConversionWindow, CreateWindow, ActiveWindow, WindowList, ConvertRequest, Conversion, Decide,
        ConversionList,
        FileDoc, FileList, NewShare, Share, ShareList, SharedDoc, NewComment, Comment, CommentList, Hold,
        Client, NewClient, PatchClient, ClientList,
        NewKey, SigningKey, KeyList, RequestSignature, Sign, Signature, SignatureList,
        ApiKeyId, PublicationId, Publication, Publish, Broadcast, Published, PublicationPage,
        PresenceCount, RoomPresence, CountRooms, PresenceCounts, RoomCount, Disconnect, Disconnected,
        SessionClosed, SessionReconnect, SessionCloseCode, Scope, ApiKey, NewApiKey, CreatedApiKey, ApiKeyList,
        WebhookId, DeliveryId, Webhook, NewWebhook, PatchWebhook, CreatedWebhook, WebhookList,
        DeliveryState, Delivery, Attempt, DeliveryList, DeliveryLog,
        )
    };
}

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
    let types = wire_types!(decls, cfg);
    for t in types {
        out.push_str(&t);
        out.push_str("\n\n");
    }
    out.push_str(
        "/** The ack of every client event: the payload beside `ok: true`, or an error. */\n\
         export type Ack<T> = ({ ok: true } & T) | AckErr;\n\n",
    );
    out.push_str(
        "/** A client event's ack callback. */\nexport type Reply<T> = (ack: Ack<T>) => void;\n\n",
    );
    let consts = |name: &str, events: &[EventTs]| {
        let mut s = format!("export const {name} = {{\n");
        for e in events {
            s.push_str(&format!("  {}: \"{}\",\n", e.konst, e.name));
        }
        s.push_str("} as const;\n\n");
        s
    };
    let client_events = client::table(cfg);
    let server_events = server::table(cfg);
    out.push_str(&consts("ClientEvents", &client_events));
    out.push_str(&consts("ServerEvents", &server_events));
    out.push_str(&event_map(
        "ServerToClient",
        "Events the server sends (for `Socket<ServerToClient, ClientToServer>`).",
        &server_events,
    ));
    out.push_str(&event_map(
        "ClientToServer",
        "Events a client sends, each with its typed ack.",
        &client_events,
    ));
    out.push_str(&format!(
        "/** The most messages a `room:join` with `since` returns. */\nexport const MISSED_LIMIT = {MISSED_LIMIT};\n"
    ));
    out
}

/// An interface of socket.io-client's event map: each event's listener (or emitter, with its
/// ack callback), under its doc comment.
fn event_map(name: &str, doc: &str, events: &[EventTs]) -> String {
    let mut s = format!("/** {doc} */\nexport interface {name} {{\n");
    for e in events {
        let doc = e.doc.lines().map(str::trim).collect::<Vec<_>>().join(" ");
        let doc = doc.trim();
        if !doc.is_empty() {
            s.push_str(&format!("  /** {doc} */\n"));
        }
        let mut args = e.args.clone();
        if let Some((ack, optional)) = &e.ack {
            if !args.is_empty() {
                args.push_str(", ");
            }
            let q = if *optional { "?" } else { "" };
            args.push_str(&format!("reply{q}: Reply<{ack}>"));
        }
        s.push_str(&format!("  \"{}\": ({args}) => void;\n", e.name));
    }
    s.push_str("}\n\n");
    s
}

#[test]
fn every_client_and_server_event_is_in_the_generated_maps() {
    let ts = render();
    for name in client::ALL.iter().chain(server::ALL) {
        assert!(
            ts.contains(&format!("  \"{name}\": (")),
            "{name} is missing"
        );
    }
    // The ack is typed: `room:join` answers `RoomJoined`, `doc:msg` may go without one.
    assert!(ts.contains("\"room:join\": (req: RoomJoin, reply: Reply<RoomJoined>) => void;"));
    assert!(
        ts.contains(
            "\"doc:msg\": (doc: string, message: Uint8Array, reply?: Reply<Done>) => void;"
        )
    );
    assert!(ts.contains("\"sys:ping\": (reply: Reply<Pong>) => void;"));
    assert!(ts.contains("\"wallet:updated\": (e: WalletUpdated) => void;"));
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

/// One wire type as TypeScript and as its OpenAPI schema: `(name, TS declaration, schema)`.
type Both = (String, String, serde_json::Value);

macro_rules! both {
    ($cfg:expr; $($t:ty),* $(,)?) => {
        vec![$((
            <$t as utoipa::ToSchema>::name().into_owned(),
            <$t as TS>::decl($cfg),
            serde_json::to_value(<$t as utoipa::PartialSchema>::schema()).unwrap(),
        )),*]
    };
}

/// The fields of a TypeScript object literal type: `(name, optional)`, or `None` when the
/// declaration is not a plain object (a union, an intersection, a primitive).
fn ts_fields(decl: &str) -> Option<Vec<(String, bool)>> {
    let mut text = String::new();
    let mut rest = decl;
    while let Some(i) = rest.find("/*") {
        text.push_str(&rest[..i]);
        rest = rest[i..].split_once("*/").map_or("", |(_, after)| after);
    }
    text.push_str(rest);
    let body = text.split_once('=')?.1.trim().trim_end_matches(';').trim();
    if !body.starts_with('{') || !body.ends_with('}') {
        return None;
    }
    let inner = &body[1..body.len() - 1];
    // `{ a } | { b }` starts and ends with braces too: the first must close at the end.
    let mut level = 0i32;
    for c in inner.chars() {
        level += match c {
            '{' => 1,
            '}' => -1,
            _ => 0,
        };
        if level < 0 {
            return None;
        }
    }
    let (mut depth, mut fields, mut start) = (0i32, Vec::new(), 0);
    let push = |part: &str, fields: &mut Vec<(String, bool)>| {
        let part = part.trim();
        if part.is_empty() {
            return;
        }
        let name = part.split_once(':').map_or(part, |(n, _)| n).trim();
        let optional = name.ends_with('?');
        let name = name.trim_end_matches('?').trim_matches('"');
        fields.push((name.to_owned(), optional));
    };
    for (i, c) in inner.char_indices() {
        match c {
            '{' | '<' | '(' | '[' => depth += 1,
            '}' | '>' | ')' | ']' => depth -= 1,
            ',' if depth == 0 => {
                push(&inner[start..i], &mut fields);
                start = i + 1;
            }
            _ => {}
        }
    }
    push(&inner[start..], &mut fields);
    Some(fields)
}

/// The string values of a TypeScript union of literals (`"a" | "b"`), or `None`.
fn ts_literals(decl: &str) -> Option<Vec<String>> {
    let body = decl.split_once('=')?.1.trim().trim_end_matches(';').trim();
    body.split('|')
        .map(|v| {
            let v = v.trim();
            (v.len() >= 2 && v.starts_with('"') && v.ends_with('"'))
                .then(|| v[1..v.len() - 1].to_owned())
        })
        .collect()
}

/// The OpenAPI schemas and the generated TypeScript come from the same types through two
/// derives; this checks that they agree: the same properties, a property the schema requires is
/// never optional in TypeScript, a property TypeScript makes optional is never required, and the
/// same values for every string enum.
#[test]
fn openapi_schemas_agree_with_the_typescript() {
    let cfg = &Config::new().with_large_int("number");
    let all: Vec<Both> = wire_types!(both, cfg);
    let by_name: std::collections::HashMap<&str, &serde_json::Value> =
        all.iter().map(|(n, _, s)| (n.as_str(), s)).collect();
    let mut compared = 0;
    let mut problems = Vec::new();
    for (name, decl, schema) in &all {
        let schema = &merged(schema, &by_name);
        if let Some(fields) = ts_fields(decl) {
            let props = schema["properties"]
                .as_object()
                .cloned()
                .unwrap_or_default();
            let required: Vec<&str> = schema["required"]
                .as_array()
                .map(|r| r.iter().filter_map(|v| v.as_str()).collect())
                .unwrap_or_default();
            let mut ts_names: Vec<&str> = fields.iter().map(|(n, _)| n.as_str()).collect();
            let mut schema_names: Vec<&str> = props.keys().map(String::as_str).collect();
            ts_names.sort_unstable();
            schema_names.sort_unstable();
            if ts_names != schema_names {
                problems.push(format!(
                    "{name}: TypeScript has {ts_names:?}, the schema {schema_names:?}"
                ));
            }
            for (field, optional) in &fields {
                if *optional && required.contains(&field.as_str()) {
                    problems.push(format!(
                        "{name}.{field}: optional in TypeScript, required in the schema"
                    ));
                }
            }
            for field in &required {
                if fields.iter().any(|(n, optional)| n == field && *optional) {
                    continue;
                }
                if !fields.iter().any(|(n, _)| n == field) {
                    problems.push(format!("{name}.{field}: required but not in TypeScript"));
                }
            }
            compared += 1;
        } else if let Some(values) = ts_literals(decl) {
            let mut schema_values: Vec<String> = schema["enum"]
                .as_array()
                .map(|e| {
                    e.iter()
                        .filter_map(|v| v.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default();
            let mut values = values;
            values.sort();
            schema_values.sort();
            if values != schema_values {
                problems.push(format!(
                    "{name}: TypeScript allows {values:?}, the schema {schema_values:?}"
                ));
            }
            compared += 1;
        } else if decl
            .split_once('=')
            .map(|(_, t)| t.trim().trim_end_matches(';').trim())
            == Some("string")
        {
            // A typed id: a string on both sides.
            if schema["type"] != "string" {
                problems.push(format!("{name}: a string in TypeScript, not in the schema"));
            }
            compared += 1;
        }
    }
    assert!(
        problems.is_empty(),
        "schemas disagree:\n{}",
        problems.join("\n")
    );
    // Nearly every type is an object, a string enum or a typed id; unions are the rest.
    assert!(
        compared + 12 >= all.len(),
        "only {compared} of {} compared",
        all.len()
    );
}

/// A schema with its `allOf` parts (a `#[serde(flatten)]`) folded into one object.
fn merged(
    schema: &serde_json::Value,
    by_name: &std::collections::HashMap<&str, &serde_json::Value>,
) -> serde_json::Value {
    let Some(parts) = schema["allOf"].as_array() else {
        return schema.clone();
    };
    let mut props = serde_json::Map::new();
    let mut required = Vec::new();
    for part in parts {
        let part = match part["$ref"].as_str() {
            Some(r) => {
                let target = r.rsplit('/').next().unwrap_or_default();
                by_name
                    .get(target)
                    .map(|s| merged(s, by_name))
                    .unwrap_or_default()
            }
            None => merged(part, by_name),
        };
        if let Some(p) = part["properties"].as_object() {
            props.extend(p.clone());
        }
        if let Some(r) = part["required"].as_array() {
            required.extend(r.iter().cloned());
        }
    }
    serde_json::json!({"type": "object", "properties": props, "required": required})
}

#[test]
fn the_agreement_check_sees_a_disagreement() {
    let fields = ts_fields("type A = { a: string, /** doc, with a comma */ b?: number, c: { [key in string]: Array<X> }, };").unwrap();
    assert_eq!(
        fields,
        vec![("a".into(), false), ("b".into(), true), ("c".into(), false)]
    );
    assert_eq!(
        ts_literals("type R = \"x\" | \"y\";"),
        Some(vec!["x".into(), "y".into()])
    );
    assert_eq!(ts_literals("type U = string;"), None);
    assert_eq!(
        ts_fields("type N = { a: string } & ({ kind: \"k\" });"),
        None
    );
}
