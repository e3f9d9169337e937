//! The REST surface as one table: each route's method, path, handler, request and answer types.
//! The router is built from it, and so are the OpenAPI document served at `/api/openapi.json`
//! and the SDK's typed REST client (`client-sdk/src/generated/rest.ts`), so a route cannot exist
//! without being described, and a description cannot name a type the handler does not use.

use super::{
    auditlog, badges, clients, debug, dev, docs, equity, events, files, gamification, health,
    invitations, me, notifications, profiles, rooms, server, signatures, teams, ventures, wallets,
    webhooks,
};
use crate::state::AppState;
use axum::routing::MethodRouter;
use hub_protocol::activity::ActivityPage;
use hub_protocol::audit::{JobRun, JobsHealth, WormIntegrity};
use hub_protocol::auditlog::*;
use hub_protocol::badges::*;
use hub_protocol::clients::*;
use hub_protocol::docs::{CreateDoc, DocInfo, DocList};
use hub_protocol::equity::*;
use hub_protocol::events::*;
use hub_protocol::files::*;
use hub_protocol::gamification::{GamificationStatus, Leaderboard};
use hub_protocol::notifications::{MarkRead, NotificationList, UnreadCount};
use hub_protocol::profiles::*;
use hub_protocol::rest::*;
use hub_protocol::server::*;
use hub_protocol::signatures::*;
use hub_protocol::wallets::*;
use hub_protocol::webhooks::*;
use hub_protocol::{ErrorBody, ErrorCode};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;
use utoipa::openapi::RefOr;
use utoipa::openapi::path::{Parameter, ParameterIn};
use utoipa::openapi::schema::Schema as OaSchema;
use utoipa::{IntoParams, ToSchema};

/// An HTTP method of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    Get,
    Post,
    Patch,
    Delete,
}

impl Verb {
    pub fn as_str(self) -> &'static str {
        match self {
            Verb::Get => "GET",
            Verb::Post => "POST",
            Verb::Patch => "PATCH",
            Verb::Delete => "DELETE",
        }
    }
}

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// A bearer token is required (`401` without one).
    Token,
    /// Works without a token; a token may widen what is seen.
    Optional,
    /// No token at all (health, the development token route, this document).
    Public,
    /// A token of an `admin` or `system` account.
    Operator,
    /// A token of an `admin` or `system` account, or an API key (`hk_…`) with this scope.
    Server(Scope),
}

/// A schema by name: registers the type (and everything it uses) in the components.
#[derive(Clone, Copy)]
pub struct SchemaRef {
    pub name: fn() -> String,
    collect: fn(&mut Vec<(String, RefOr<OaSchema>)>),
}

fn schema<T: ToSchema>() -> SchemaRef {
    SchemaRef {
        name: || T::name().into_owned(),
        collect: |all| {
            T::schemas(all);
            all.push((T::name().into_owned(), T::schema()));
        },
    }
}

/// What a route reads.
#[derive(Clone, Copy)]
pub enum Body {
    None,
    Json(SchemaRef),
    /// `multipart/form-data` with these fields (name, description); `file` is the binary part.
    Form(&'static [(&'static str, &'static str)]),
    /// Raw bytes (`application/octet-stream`).
    Bytes,
}

/// What a route answers on success.
#[derive(Clone, Copy)]
pub enum Answer {
    Json(SchemaRef),
    /// A JSON object of no fixed shape (this document).
    AnyJson,
    /// No body (`204`).
    Empty,
    /// Raw bytes of this content type.
    Bytes(&'static str),
}

/// What the router needs beyond the table.
pub struct Wiring {
    /// The largest upload body, the file limit plus the form around it.
    pub upload_limit: usize,
    /// How a refused upload's body is still read before the answer.
    pub drain: files::Drain,
    /// Whether the development routes exist (`HUB_ENV=development`).
    pub development: bool,
    /// This document, served at `/api/openapi.json`.
    pub openapi: Arc<Value>,
}

type Attach = fn(MethodRouter<AppState>, &Wiring) -> MethodRouter<AppState>;

/// One REST operation.
pub struct Route {
    pub verb: Verb,
    /// The full path, with `{param}` segments.
    pub path: &'static str,
    /// The operation id (camelCase): the SDK's method name.
    pub id: &'static str,
    pub tag: &'static str,
    pub summary: &'static str,
    pub access: Access,
    pub query: Option<fn() -> Vec<Parameter>>,
    pub body: Body,
    /// The success status; `also` lists other success statuses with the same answer.
    pub status: u16,
    pub also: &'static [u16],
    pub answer: Answer,
    /// Exists only in development (`HUB_ENV=development`).
    pub dev_only: bool,
    attach: Attach,
}

fn op(verb: Verb, path: &'static str, id: &'static str, attach: Attach) -> Route {
    Route {
        verb,
        path,
        id,
        tag: "",
        summary: "",
        access: Access::Token,
        query: None,
        body: Body::None,
        status: 200,
        also: &[],
        answer: Answer::Empty,
        dev_only: false,
        attach,
    }
}

impl Route {
    fn doc(mut self, tag: &'static str, summary: &'static str) -> Self {
        self.tag = tag;
        self.summary = summary;
        self
    }
    fn body<T: ToSchema>(mut self) -> Self {
        self.body = Body::Json(schema::<T>());
        self
    }
    fn query<Q: IntoParams>(mut self) -> Self {
        self.query = Some(|| Q::into_params(|| Some(ParameterIn::Query)));
        self
    }
    fn ok<T: ToSchema>(mut self) -> Self {
        self.answer = Answer::Json(schema::<T>());
        self
    }
    fn created<T: ToSchema>(mut self) -> Self {
        self.status = 201;
        self.answer = Answer::Json(schema::<T>());
        self
    }
    fn no_content(mut self) -> Self {
        self.status = 204;
        self.answer = Answer::Empty;
        self
    }
    fn also(mut self, statuses: &'static [u16]) -> Self {
        self.also = statuses;
        self
    }
    fn access(mut self, access: Access) -> Self {
        self.access = access;
        self
    }

    fn bytes_answer(mut self, content_type: &'static str) -> Self {
        self.answer = Answer::Bytes(content_type);
        self
    }
    fn any_json(mut self) -> Self {
        self.answer = Answer::AnyJson;
        self
    }
    fn bytes_body(mut self) -> Self {
        self.body = Body::Bytes;
        self
    }
    fn form(mut self, fields: &'static [(&'static str, &'static str)]) -> Self {
        self.body = Body::Form(fields);
        self
    }
    fn dev_only(mut self) -> Self {
        self.dev_only = true;
        self
    }

    /// The names of the path's `{param}` segments, in order.
    pub fn path_params(&self) -> Vec<&'static str> {
        self.path
            .split('/')
            .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .collect()
    }

    /// The query parameters: `(name, required, schema)`.
    pub fn query_params(&self) -> Vec<(String, bool, Value)> {
        self.query
            .map(|q| q())
            .unwrap_or_default()
            .into_iter()
            .map(|p| {
                let v = serde_json::to_value(&p).unwrap_or_default();
                (
                    v["name"].as_str().unwrap_or_default().to_owned(),
                    v["required"].as_bool().unwrap_or(false),
                    v["schema"].clone(),
                )
            })
            .collect()
    }
}

use Verb::{Delete as DELETE, Get as GET, Patch as PATCH, Post as POST};

/// Every REST route of the hub.
pub fn routes() -> Vec<Route> {
    vec![
        // Identity and rooms.
        op(GET, "/api/v1/me", "getMe", |m, _| m.get(me::me))
            .doc("identity", "The caller, their ventures and teams")
            .ok::<Me>(),
        op(GET, "/api/v1/rooms", "listRooms", |m, _| m.get(rooms::list))
            .doc("rooms", "The rooms I may join, with unread counts")
            .ok::<RoomList>(),
        op(GET, "/api/v1/notifications", "listNotifications", |m, _| m.get(notifications::list))
            .doc("notifications", "My notifications, newest first")
            .query::<notifications::ListQuery>()
            .ok::<NotificationList>(),
        op(POST, "/api/v1/notifications/read", "markNotificationsRead", |m, _| m.post(notifications::mark_read))
            .doc("notifications", "Marks notifications read (some ids, or all)")
            .body::<MarkRead>()
            .ok::<UnreadCount>(),
        // Collaborative documents.
        op(POST, "/api/v1/docs", "createDoc", |m, _| m.post(docs::create))
            .doc("docs", "Creates a collaborative document in a room")
            .body::<CreateDoc>()
            .created::<DocInfo>(),
        op(GET, "/api/v1/docs", "listDocs", |m, _| m.get(docs::list))
            .doc("docs", "The collaborative documents I can open")
            .query::<docs::ListQuery>()
            .ok::<DocList>(),
        op(GET, "/api/v1/docs/{id}", "getDoc", |m, _| m.get(docs::get))
            .doc("docs", "One collaborative document")
            .ok::<DocInfo>(),
        op(DELETE, "/api/v1/docs/{id}", "deleteDoc", |m, _| m.delete(docs::delete))
            .doc("docs", "Deletes a collaborative document (editors and above)")
            .no_content(),
        op(GET, "/api/v1/docs/{id}/state", "getDocState", |m, _| m.get(docs::state))
            .doc("docs", "The document's whole state as one Yjs update (v1)")
            .bytes_answer("application/octet-stream"),
        op(POST, "/api/v1/docs/{id}/updates", "applyDocUpdate", |m, _| m.post(docs::apply_update))
            .doc("docs", "Applies one Yjs update (v1), stored before it is relayed")
            .bytes_body()
            .no_content(),
        // Ventures and teams.
        op(POST, "/api/v1/ventures", "createVenture", |m, _| m.post(ventures::create))
            .doc("ventures", "Creates a venture; the caller becomes its owner")
            .body::<CreateVenture>()
            .created::<Venture>(),
        op(GET, "/api/v1/ventures", "listVentures", |m, _| m.get(ventures::list))
            .doc("ventures", "The ventures I belong to")
            .ok::<VentureList>(),
        op(GET, "/api/v1/ventures/{id}", "getVenture", |m, _| m.get(ventures::get))
            .doc("ventures", "A venture with its members and teams")
            .ok::<VentureDetail>(),
        op(POST, "/api/v1/ventures/{id}/teams", "createTeam", |m, _| m.post(teams::create))
            .doc("teams", "Creates a team in a venture")
            .body::<CreateTeam>()
            .created::<Team>(),
        op(GET, "/api/v1/ventures/{id}/activity", "getVentureActivity", |m, _| m.get(ventures::activity))
            .doc("ventures", "The venture's activity feed, newest first")
            .query::<ventures::ActivityQuery>()
            .ok::<ActivityPage>(),
        op(POST, "/api/v1/ventures/{id}/members", "putVentureMember", |m, _| m.post(ventures::put_member))
            .doc("ventures", "Invites someone (202; an admin or system adds them directly, 201) or changes a member's role (200)")
            .body::<PutMember>()
            .created::<MemberSet>()
            .also(&[200, 202]),
        op(DELETE, "/api/v1/ventures/{id}/members/{user}", "removeVentureMember", |m, _| m.delete(ventures::remove_member))
            .doc("ventures", "Removes a member, or withdraws their invitation")
            .no_content(),
        op(GET, "/api/v1/ventures/{id}/leaderboard", "getLeaderboard", |m, _| m.get(gamification::leaderboard))
            .doc("gamification", "The venture's members ranked by XP or reputation")
            .query::<gamification::BoardQuery>()
            .ok::<Leaderboard>(),
        op(GET, "/api/v1/teams/{id}", "getTeam", |m, _| m.get(teams::get))
            .doc("teams", "A team with its members")
            .ok::<TeamDetail>(),
        op(POST, "/api/v1/teams/{id}/members", "putTeamMember", |m, _| m.post(teams::put_member))
            .doc("teams", "Invites a venture member to the team (202; an admin or system adds directly, 201) or changes a team member's role (200)")
            .body::<PutMember>()
            .created::<MemberSet>()
            .also(&[200, 202]),
        op(DELETE, "/api/v1/teams/{id}/members/{user}", "removeTeamMember", |m, _| m.delete(teams::remove_member))
            .doc("teams", "Removes a team member, or withdraws their invitation")
            .no_content(),
        op(GET, "/api/v1/invitations", "listInvitations", |m, _| m.get(invitations::list))
            .doc("invitations", "My pending invitations to ventures and teams, newest first")
            .ok::<InvitationList>(),
        op(POST, "/api/v1/invitations/{id}/accept", "acceptInvitation", |m, _| m.post(invitations::accept))
            .doc("invitations", "Accepts my invitation: I become a member with its role")
            .created::<Member>(),
        op(POST, "/api/v1/invitations/{id}/decline", "declineInvitation", |m, _| m.post(invitations::decline))
            .doc("invitations", "Declines my invitation")
            .no_content(),
        // Events in.
        op(POST, "/api/v1/events/task/accepted", "taskAccepted", |m, _| m.post(events::task_accepted))
            .doc("events", "A task was accepted: XP, BUZ, badges, feed")
            .body::<TaskAccepted>()
            .created::<EventAccepted>()
            .also(&[200])
            .access(Access::Server(Scope::Events)),
        op(POST, "/api/v1/events/review", "reviewDone", |m, _| m.post(events::review))
            .doc("events", "A review was done")
            .body::<ReviewEvent>()
            .created::<EventAccepted>()
            .also(&[200])
            .access(Access::Server(Scope::Events)),
        op(POST, "/api/v1/events/bug", "bugReported", |m, _| m.post(events::bug))
            .doc("events", "A bug was found or fixed")
            .body::<BugEvent>()
            .created::<EventAccepted>()
            .also(&[200])
            .access(Access::Server(Scope::Events)),
        op(POST, "/api/v1/events/kyc", "kycChanged", |m, _| m.post(events::kyc))
            .doc("events", "A user's KYC status changed")
            .body::<KycEvent>()
            .created::<EventAccepted>()
            .also(&[200])
            .access(Access::Server(Scope::Events)),
        op(POST, "/api/v1/events/device", "deviceSeen", |m, _| m.post(events::device))
            .doc("events", "A device was seen for a user")
            .body::<DeviceEvent>()
            .created::<EventAccepted>()
            .also(&[200])
            .access(Access::Server(Scope::Events)),
        op(POST, "/api/v1/events/violation", "violationReported", |m, _| m.post(events::violation))
            .doc("events", "A rule violation by a user")
            .body::<ViolationEvent>()
            .created::<EventAccepted>()
            .also(&[200])
            .access(Access::Server(Scope::Events)),
        // The server API.
        op(POST, "/api/v1/rooms/{room}/publish", "publishToRoom", |m, _| m.post(server::publish_room))
            .doc("server", "Publishes a server event to a room's sockets on every node (kept with a seq with `store: true`)")
            .body::<Publish>()
            .ok::<Publication>()
            .access(Access::Server(Scope::Publish)),
        op(POST, "/api/v1/users/{user_id}/publish", "publishToUser", |m, _| m.post(server::publish_user))
            .doc("server", "Publishes a server event to every socket of a user")
            .body::<Publish>()
            .ok::<Publication>()
            .access(Access::Server(Scope::Publish)),
        op(POST, "/api/v1/publish", "broadcast", |m, _| m.post(server::broadcast))
            .doc("server", "Publishes one server event to many rooms (at most 1,000)")
            .body::<Broadcast>()
            .ok::<Published>()
            .access(Access::Server(Scope::Publish)),
        op(GET, "/api/v1/rooms/{room}/publications", "listPublications", |m, _| m.get(server::publications))
            .doc("server", "A room's kept publications after a seq, oldest first (its members, or the server API)")
            .query::<server::PageQuery>()
            .ok::<PublicationPage>(),
        op(GET, "/api/v1/rooms/{room}/presence", "getRoomPresence", |m, _| m.get(server::presence))
            .doc("server", "Who is in a room, as its sockets see it, with the counts")
            .ok::<RoomPresence>()
            .access(Access::Server(Scope::Presence)),
        op(POST, "/api/v1/presence/counts", "countPresence", |m, _| m.post(server::counts))
            .doc("server", "The users and connections of many rooms (at most 1,000)")
            .body::<CountRooms>()
            .ok::<PresenceCounts>()
            .access(Access::Server(Scope::Presence)),
        op(POST, "/api/v1/users/{user_id}/disconnect", "disconnectUser", |m, _| m.post(server::disconnect))
            .doc("server", "Closes every connection of a user on every node (they may come back)")
            .body::<Disconnect>()
            .ok::<Disconnected>()
            .access(Access::Server(Scope::Disconnect)),
        op(POST, "/api/v1/users/{user_id}/revoke", "revokeUserTokens", |m, _| m.post(server::revoke))
            .doc("server", "Revokes a user's tokens issued before now and closes their connections on every node")
            .body::<Disconnect>()
            .ok::<Disconnected>()
            .access(Access::Server(Scope::Disconnect)),
        op(POST, "/api/v1/api-keys", "createApiKey", |m, _| m.post(server::create_key))
            .doc("server", "Makes an API key with scopes; its secret is shown once")
            .body::<NewApiKey>()
            .created::<CreatedApiKey>()
            .access(Access::Operator),
        op(GET, "/api/v1/api-keys", "listApiKeys", |m, _| m.get(server::keys))
            .doc("server", "Every API key (never a secret)")
            .ok::<ApiKeyList>()
            .access(Access::Operator),
        op(DELETE, "/api/v1/api-keys/{id}", "revokeApiKey", |m, _| m.delete(server::revoke_key))
            .doc("server", "Revokes an API key at once")
            .ok::<ApiKey>()
            .access(Access::Operator),
        // Webhooks out.
        op(POST, "/api/v1/webhooks", "createWebhook", |m, _| m.post(webhooks::create))
            .doc("webhooks", "Registers an endpoint for event types; its signing secret is shown once")
            .body::<NewWebhook>()
            .created::<CreatedWebhook>()
            .access(Access::Server(Scope::Webhooks)),
        op(GET, "/api/v1/webhooks", "listWebhooks", |m, _| m.get(webhooks::list))
            .doc("webhooks", "Every endpoint (never a secret)")
            .ok::<WebhookList>()
            .access(Access::Server(Scope::Webhooks)),
        op(GET, "/api/v1/webhooks/{id}", "getWebhook", |m, _| m.get(webhooks::get))
            .doc("webhooks", "One endpoint")
            .ok::<Webhook>()
            .access(Access::Server(Scope::Webhooks)),
        op(PATCH, "/api/v1/webhooks/{id}", "patchWebhook", |m, _| m.patch(webhooks::patch))
            .doc("webhooks", "Changes an endpoint's events, or disables or enables it")
            .body::<PatchWebhook>()
            .ok::<Webhook>()
            .access(Access::Server(Scope::Webhooks)),
        op(DELETE, "/api/v1/webhooks/{id}", "deleteWebhook", |m, _| m.delete(webhooks::delete))
            .doc("webhooks", "Deletes an endpoint with its deliveries and their log")
            .no_content()
            .access(Access::Server(Scope::Webhooks)),
        op(GET, "/api/v1/webhooks/{id}/deliveries", "listDeliveries", |m, _| m.get(webhooks::deliveries))
            .doc("webhooks", "An endpoint's deliveries, the newest first, with their last status")
            .query::<webhooks::DeliveriesQuery>()
            .ok::<DeliveryList>()
            .access(Access::Server(Scope::Webhooks)),
        op(GET, "/api/v1/webhook-deliveries/{id}", "getDelivery", |m, _| m.get(webhooks::delivery))
            .doc("webhooks", "A delivery and the log of its tries (status codes, timings, errors)")
            .ok::<DeliveryLog>()
            .access(Access::Server(Scope::Webhooks)),
        op(POST, "/api/v1/webhook-deliveries/{id}/replay", "replayDelivery", |m, _| m.post(webhooks::replay))
            .doc("webhooks", "Puts a dead delivery back in its endpoint's queue")
            .ok::<Delivery>()
            .access(Access::Server(Scope::Webhooks)),
        // Profiles, skills, portfolio.
        op(GET, "/api/v1/profiles/me", "getMyProfile", |m, _| m.get(profiles::me))
            .doc("profiles", "My profile")
            .ok::<Profile>(),
        op(PATCH, "/api/v1/profiles/me", "patchMyProfile", |m, _| m.patch(profiles::patch_me))
            .doc("profiles", "Changes my profile (absent fields stay, null clears)")
            .body::<ProfilePatch>()
            .ok::<Profile>(),
        op(POST, "/api/v1/profiles/me/skills", "addMySkill", |m, _| m.post(profiles::add_skill))
            .doc("profiles", "Adds a skill of the catalog to my profile")
            .body::<AddSkill>()
            .created::<Profile>(),
        op(POST, "/api/v1/profiles/me/endorse", "endorse", |m, _| m.post(profiles::endorse))
            .doc("profiles", "Endorses another user's skill")
            .body::<Endorse>()
            .created::<Endorsement>(),
        op(GET, "/api/v1/profiles/me/portfolio", "getMyPortfolio", |m, _| m.get(profiles::my_portfolio))
            .doc("portfolio", "My portfolio")
            .ok::<Portfolio>(),
        op(GET, "/api/v1/profiles/{user_id}", "getProfile", |m, _| m.get(profiles::get))
            .doc("profiles", "A public profile (a private one is 404 to all but its owner)")
            .access(Access::Optional)
            .ok::<Profile>(),
        op(GET, "/api/v1/profiles/{user_id}/portfolio", "getPortfolio", |m, _| m.get(profiles::portfolio))
            .doc("portfolio", "A user's portfolio")
            .access(Access::Optional)
            .ok::<Portfolio>(),
        op(POST, "/api/v1/profiles/{user_id}/skills/{skill}/verify", "verifySkill", |m, _| m.post(profiles::verify_skill))
            .doc("profiles", "Verifies a member's skill (venture owners)")
            .ok::<Profile>(),
        op(GET, "/api/v1/skills", "listSkills", |m, _| m.get(profiles::skills))
            .doc("skills", "The skill catalog")
            .access(Access::Optional)
            .ok::<SkillList>(),
        op(POST, "/api/v1/skills", "createSkill", |m, _| m.post(profiles::create_skill))
            .doc("skills", "Adds a skill to the catalog (operators)")
            .access(Access::Operator)
            .body::<Skill>()
            .created::<Skill>(),
        op(POST, "/api/v1/portfolio", "addPortfolioItem", |m, _| m.post(profiles::add_portfolio_item))
            .doc("portfolio", "Adds an item to my portfolio")
            .body::<NewPortfolioItem>()
            .created::<PortfolioItem>(),
        op(DELETE, "/api/v1/portfolio/{id}", "deletePortfolioItem", |m, _| m.delete(profiles::delete_portfolio_item))
            .doc("portfolio", "Removes an item of my portfolio")
            .no_content(),
        // Badges.
        op(GET, "/api/v1/badges", "listBadges", |m, _| m.get(badges::list))
            .doc("badges", "The badge catalog")
            .access(Access::Optional)
            .ok::<BadgeList>(),
        op(POST, "/api/v1/badges", "createBadge", |m, _| m.post(badges::create))
            .doc("badges", "Adds a badge with its rule (operators)")
            .access(Access::Operator)
            .body::<CreateBadge>()
            .created::<Badge>(),
        op(POST, "/api/v1/badges/evaluate", "evaluateBadges", |m, _| m.post(profiles::evaluate))
            .doc("badges", "Evaluates a user's badges now (mine, or anyone's for an operator)")
            .body::<EvaluateBadges>()
            .ok::<BadgesEvaluated>(),
        op(PATCH, "/api/v1/badges/{code}", "patchBadge", |m, _| m.patch(badges::patch))
            .doc("badges", "Changes a badge (operators)")
            .access(Access::Operator)
            .body::<PatchBadge>()
            .ok::<Badge>(),
        op(POST, "/api/v1/badges/{code}/award", "awardBadge", |m, _| m.post(badges::award))
            .doc("badges", "Awards a manual badge (operators); 200 when already held")
            .access(Access::Operator)
            .body::<AwardBadge>()
            .created::<BadgeAward>()
            .also(&[200]),
        // Wallets and equity.
        op(GET, "/api/v1/wallet/me", "getMyWallet", |m, _| m.get(wallets::me))
            .doc("wallets", "My wallet")
            .ok::<Wallet>(),
        op(GET, "/api/v1/wallet/me/ledger", "getMyLedger", |m, _| m.get(wallets::ledger))
            .doc("wallets", "My ledger, newest first")
            .query::<wallets::LedgerQuery>()
            .ok::<LedgerPage>(),
        op(GET, "/api/v1/wallet/me/verify", "verifyMyWallet", |m, _| m.get(wallets::verify))
            .doc("wallets", "Re-checks my ledger's hash chain and balances")
            .ok::<WalletVerify>(),
        op(GET, "/api/v1/wallet/me/withheld", "getMyWithheld", |m, _| m.get(wallets::withheld))
            .doc("wallets", "BUZ withheld from me, and why")
            .query::<wallets::WithheldQuery>()
            .ok::<WithheldList>(),
        op(GET, "/api/v1/wallets/{user_id}", "getWallet", |m, _| m.get(wallets::of_user))
            .doc("wallets", "A user's wallet (operators)")
            .access(Access::Operator)
            .ok::<Wallet>(),
        op(POST, "/api/v1/wallets/{user_id}/adjust", "adjustWallet", |m, _| m.post(wallets::adjust))
            .doc("wallets", "Adjusts a wallet with a ledger entry (operators)")
            .access(Access::Operator)
            .body::<Adjust>()
            .created::<LedgerEntry>(),
        op(GET, "/api/v1/conversion-windows", "listConversionWindows", |m, _| m.get(equity::windows))
            .doc("equity", "Conversion windows")
            .ok::<WindowList>(),
        op(POST, "/api/v1/conversion-windows", "createConversionWindow", |m, _| m.post(equity::create_window))
            .doc("equity", "Schedules a conversion window (operators)")
            .access(Access::Operator)
            .body::<CreateWindow>()
            .created::<ConversionWindow>(),
        op(GET, "/api/v1/conversion-windows/active", "getActiveWindow", |m, _| m.get(equity::active))
            .doc("equity", "The open window, if any, and the next one")
            .ok::<ActiveWindow>(),
        op(POST, "/api/v1/equity/convert", "requestConversion", |m, _| m.post(equity::convert))
            .doc("equity", "Asks to convert BUZ to equity in an open window (locks the BUZ)")
            .body::<ConvertRequest>()
            .created::<Conversion>(),
        op(GET, "/api/v1/equity/conversions", "listConversions", |m, _| m.get(equity::conversions))
            .doc("equity", "My conversion requests, or a venture's for its owners")
            .query::<equity::ListQuery>()
            .ok::<ConversionList>(),
        op(POST, "/api/v1/equity/conversions/{id}/decide", "decideConversion", |m, _| m.post(equity::decide))
            .doc("equity", "Approves or rejects a conversion (venture owners)")
            .body::<Decide>()
            .ok::<Conversion>(),
        // Uploaded documents, shares, comments, holds.
        op(POST, "/api/v1/documents", "uploadDocument", |m, w| {
            m.post(files::upload)
                .layer(axum::extract::DefaultBodyLimit::max(w.upload_limit))
                .layer(axum::middleware::from_fn_with_state(
                    files::Drain {
                        limit: w.upload_limit as u64,
                        ..w.drain
                    },
                    files::drain_refused,
                ))
        })
        .doc("documents", "Uploads a file (multipart), checked and hashed as it streams")
        .form(&[
            ("file", "the file (binary)"),
            ("title", "the title; the file's name when absent"),
            ("type", "the document's kind: 1 to 40 of a-z, 0-9, _ and - (e.g. contract, plan)"),
            ("venture_id", "the venture it belongs to"),
            ("client_id", "the client it concerns"),
        ])
        .created::<FileDoc>(),
        op(GET, "/api/v1/documents", "listDocuments", |m, _| m.get(files::list))
            .doc("documents", "My files, or those shared with me")
            .query::<files::ListQuery>()
            .ok::<FileList>(),
        op(GET, "/api/v1/documents/{id}", "getDocument", |m, _| m.get(files::get))
            .doc("documents", "A file's metadata")
            .ok::<FileDoc>(),
        op(DELETE, "/api/v1/documents/{id}", "deleteDocument", |m, _| m.delete(files::delete))
            .doc("documents", "Deletes a file (refused under a legal hold)")
            .no_content(),
        op(GET, "/api/v1/documents/{id}/content", "getDocumentContent", |m, _| m.get(files::content))
            .doc("documents", "The file's bytes, verified as they go out; single ranges")
            .also(&[206])
            .bytes_answer("application/octet-stream"),
        op(POST, "/api/v1/documents/{id}/share", "shareDocument", |m, _| m.post(files::share))
            .doc("shares", "Shares a file with a user or a client")
            .body::<NewShare>()
            .created::<Share>(),
        op(GET, "/api/v1/documents/{id}/shares", "listShares", |m, _| m.get(files::shares))
            .doc("shares", "A file's shares")
            .ok::<ShareList>(),
        op(DELETE, "/api/v1/documents/{id}/shares/{share_id}", "revokeShare", |m, _| m.delete(files::revoke))
            .doc("shares", "Revokes a share")
            .no_content(),
        op(GET, "/api/v1/documents/{id}/comments", "listComments", |m, _| m.get(files::comments))
            .doc("documents", "A file's comments")
            .ok::<CommentList>(),
        op(POST, "/api/v1/documents/{id}/comments", "addComment", |m, _| m.post(files::comment))
            .doc("documents", "Comments on a file")
            .body::<NewComment>()
            .created::<Comment>(),
        op(POST, "/api/v1/documents/{id}/hold", "holdDocument", |m, _| m.post(files::hold))
            .doc("documents", "Puts a legal hold on a file (operators)")
            .access(Access::Operator)
            .body::<Hold>()
            .ok::<FileDoc>(),
        op(DELETE, "/api/v1/documents/{id}/hold", "releaseDocument", |m, _| m.delete(files::release))
            .doc("documents", "Releases a legal hold (operators)")
            .access(Access::Operator)
            .ok::<FileDoc>(),
        op(GET, "/api/v1/documents/{id}/signatures", "listSignatures", |m, _| m.get(files::signatures))
            .doc("signatures", "A file's signatures")
            .ok::<SignatureList>(),
        op(GET, "/api/v1/shared/{token}", "getSharedDocument", |m, _| m.get(files::shared))
            .doc("shares", "A file shared by link (the link is the credential)")
            .access(Access::Public)
            .ok::<SharedDoc>(),
        op(GET, "/api/v1/shared/{token}/content", "getSharedContent", |m, _| m.get(files::shared_content))
            .doc("shares", "The bytes of a file shared by link")
            .access(Access::Public)
            .also(&[206])
            .bytes_answer("application/octet-stream"),
        // Clients and signatures.
        op(GET, "/api/v1/clients", "listClients", |m, _| m.get(clients::list))
            .doc("clients", "My clients")
            .ok::<ClientList>(),
        op(POST, "/api/v1/clients", "createClient", |m, _| m.post(clients::create))
            .doc("clients", "Adds a client")
            .body::<NewClient>()
            .created::<Client>(),
        op(GET, "/api/v1/clients/{id}", "getClient", |m, _| m.get(clients::get))
            .doc("clients", "A client")
            .ok::<Client>(),
        op(PATCH, "/api/v1/clients/{id}", "patchClient", |m, _| m.patch(clients::patch))
            .doc("clients", "Changes a client (absent fields stay, null clears)")
            .body::<PatchClient>()
            .ok::<Client>(),
        op(DELETE, "/api/v1/clients/{id}", "deleteClient", |m, _| m.delete(clients::delete))
            .doc("clients", "Removes a client")
            .no_content(),
        op(GET, "/api/v1/keys", "listKeys", |m, _| m.get(signatures::keys))
            .doc("signatures", "My signing keys")
            .ok::<KeyList>(),
        op(POST, "/api/v1/keys", "addKey", |m, _| m.post(signatures::add_key))
            .doc("signatures", "Registers a P-256 public key (JWK or SPKI PEM)")
            .body::<NewKey>()
            .created::<SigningKey>(),
        op(DELETE, "/api/v1/keys/{id}", "removeKey", |m, _| m.delete(signatures::remove_key))
            .doc("signatures", "Revokes a signing key")
            .no_content(),
        op(POST, "/api/v1/signatures", "requestSignature", |m, _| m.post(signatures::request))
            .doc("signatures", "Asks a user to sign a file")
            .body::<RequestSignature>()
            .created::<Signature>(),
        op(POST, "/api/v1/signatures/{id}/sign", "sign", |m, _| m.post(signatures::sign))
            .doc("signatures", "Signs: an ECDSA P-256 signature over the signing message")
            .body::<Sign>()
            .ok::<Signature>(),
        // Operations.
        op(GET, "/api/health", "health", |m, _| m.get(health::health))
            .doc("operations", "Liveness and the state of the shared services: 200 healthy, or degraded while Redis is away or the audit log is broken; 503 degraded when the database does not answer")
            .access(Access::Public)
            .also(&[503])
            .ok::<Health>(),
        op(GET, "/api/v1/audit/key", "auditKey", |m, _| m.get(auditlog::key))
            .doc("audit", "The verifier key of the audit log's checkpoints (C2SP signed-note)")
            .access(Access::Public)
            .ok::<AuditKey>(),
        op(GET, "/api/v1/audit/checkpoint", "auditCheckpoint", |m, _| m.get(auditlog::checkpoint))
            .doc("audit", "The latest signed checkpoint of the audit log (C2SP tlog-checkpoint in a signed note)")
            .access(Access::Public)
            .bytes_answer("text/plain"),
        op(GET, "/api/v1/audit/checkpoints", "auditCheckpoints", |m, _| m.get(auditlog::checkpoints))
            .doc("audit", "Checkpoints in the object store, largest first, a page at a time")
            .access(Access::Public)
            .query::<auditlog::CheckpointsQuery>()
            .ok::<CheckpointList>(),
        op(GET, "/api/v1/audit/entries", "auditEntries", |m, _| m.get(auditlog::entries))
            .doc("audit", "Consecutive leaves of the audit log with their entries (operators)")
            .access(Access::Operator)
            .query::<auditlog::EntriesQuery>()
            .ok::<LogEntryPage>(),
        op(GET, "/api/v1/audit/entries/{index}", "auditEntry", |m, _| m.get(auditlog::entry))
            .doc("audit", "One leaf of the audit log: the entry and its leaf bytes (operators)")
            .access(Access::Operator)
            .ok::<LogEntry>(),
        op(GET, "/api/v1/audit/proof/inclusion", "auditInclusionProof", |m, _| m.get(auditlog::inclusion))
            .doc("audit", "RFC 6962 inclusion proof of a leaf (operators)")
            .access(Access::Operator)
            .query::<auditlog::InclusionQuery>()
            .ok::<InclusionProof>(),
        op(GET, "/api/v1/audit/proof/consistency", "auditConsistencyProof", |m, _| m.get(auditlog::consistency))
            .doc("audit", "RFC 6962 consistency proof between two sizes of the log (operators)")
            .access(Access::Operator)
            .query::<auditlog::ConsistencyQuery>()
            .ok::<ConsistencyProof>(),
        op(GET, "/api/debug/worm/integrity", "wormIntegrity", |m, _| m.get(debug::worm_integrity))
            .doc("operations", "Re-checks every audit chain (operators)")
            .access(Access::Operator)
            .ok::<WormIntegrity>(),
        op(POST, "/api/debug/worm/reanchor", "wormReanchor", |m, _| m.post(debug::worm_reanchor))
            .doc("operations", "Re-anchors broken chains after an investigation (operators)")
            .access(Access::Operator)
            .ok::<WormIntegrity>(),
        op(GET, "/api/debug/jobs/health", "jobsHealth", |m, _| m.get(debug::jobs_health))
            .doc("operations", "The scheduled jobs and their last runs (operators)")
            .access(Access::Operator)
            .ok::<JobsHealth>(),
        op(GET, "/api/debug/gamification/status", "gamificationStatus", |m, _| m.get(gamification::status))
            .doc("operations", "Gamification counters (operators)")
            .access(Access::Operator)
            .ok::<GamificationStatus>(),
        op(POST, "/api/debug/jobs/{name}/run", "runJob", |m, _| m.post(debug::run_job))
            .doc("operations", "Runs a job now (operators)")
            .access(Access::Operator)
            .ok::<JobRun>(),
        op(GET, "/api/openapi.json", "openapi", |m, w| {
            let doc = w.openapi.clone();
            m.get(move || async move { axum::Json(doc.as_ref().clone()) })
        })
        .doc("operations", "This document")
        .access(Access::Public)
        .any_json(),
        op(POST, "/api/dev/token", "devToken", |m, _| m.post(dev::token))
            .doc("development", "A token for any development user, member of the demo venture (HUB_ENV=development only)")
            .access(Access::Public)
            .body::<DevToken>()
            .ok::<DevTokenIssued>()
            .dev_only(),
        op(POST, "/api/dev/sample-task", "devSampleTask", |m, _| m.post(dev::sample_task))
            .doc("development", "A sample task accepted for me: KYC passed and reputation at the gate first, then BUZ, XP and badges as for any task (HUB_ENV=development only)")
            .body::<SampleTask>()
            .created::<EventAccepted>()
            .dev_only(),
    ]
}

/// The routes that exist in this environment.
pub fn active_routes(development: bool) -> Vec<Route> {
    routes()
        .into_iter()
        .filter(|r| development || !r.dev_only)
        .collect()
}

/// `(router under /api/v1 without the prefix, router of the other /api routes)`.
pub fn routers(wiring: &Wiring) -> (axum::Router<AppState>, axum::Router<AppState>) {
    let mut v1: BTreeMap<&str, MethodRouter<AppState>> = BTreeMap::new();
    let mut rest: BTreeMap<&str, MethodRouter<AppState>> = BTreeMap::new();
    for r in active_routes(wiring.development) {
        let (map, path) = match r.path.strip_prefix("/api/v1") {
            Some(p) => (&mut v1, p),
            None => (&mut rest, r.path),
        };
        let m = map.remove(path).unwrap_or_default();
        map.insert(path, (r.attach)(m, wiring));
    }
    let fold = |map: BTreeMap<&str, MethodRouter<AppState>>| {
        map.into_iter()
            .fold(axum::Router::new(), |router, (path, m)| {
                router.route(path, m)
            })
    };
    (fold(v1), fold(rest))
}

fn json_content(schema: Value) -> Value {
    json!({"application/json": {"schema": schema}})
}

fn reference(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

/// The OpenAPI 3.1 document of the routes that exist in this environment.
pub fn openapi(development: bool) -> Value {
    let mut components: Vec<(String, RefOr<OaSchema>)> = Vec::new();
    (schema::<ErrorBody>().collect)(&mut components);
    let mut paths = serde_json::Map::new();
    for r in active_routes(development) {
        let mut parameters: Vec<Value> = r
            .path_params()
            .into_iter()
            .map(|name| json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}))
            .collect();
        for p in r.query.map(|q| q()).unwrap_or_default() {
            parameters.push(serde_json::to_value(&p).unwrap_or_default());
        }
        let mut responses = serde_json::Map::new();
        let success = match r.answer {
            Answer::AnyJson => {
                json!({"description": "OK", "content": json_content(json!({"type": "object"}))})
            }
            Answer::Json(s) => {
                (s.collect)(&mut components);
                json!({"description": "OK", "content": json_content(reference(&(s.name)()))})
            }
            Answer::Empty => json!({"description": "Done, no content"}),
            Answer::Bytes(ct) => {
                json!({"description": "The bytes", "content": {ct: {"schema": {"type": "string", "contentMediaType": ct}}}})
            }
        };
        for status in std::iter::once(r.status).chain(r.also.iter().copied()) {
            let answer = if status == 503 {
                json!({"description": "Degraded: a shared service is down", "content": json_content(reference("Health"))})
            } else {
                success.clone()
            };
            responses.insert(status.to_string(), answer);
        }
        responses.insert(
            "default".into(),
            json!({"description": "An error: the status says what kind, the body says why", "content": json_content(reference("ErrorBody"))}),
        );
        let mut operation = json!({
            "operationId": r.id,
            "tags": [r.tag],
            "summary": r.summary,
            "responses": responses,
        });
        if !parameters.is_empty() {
            operation["parameters"] = Value::Array(parameters);
        }
        match r.body {
            Body::None => {}
            Body::Json(s) => {
                (s.collect)(&mut components);
                operation["requestBody"] =
                    json!({"required": true, "content": json_content(reference(&(s.name)()))});
            }
            Body::Bytes => {
                operation["requestBody"] = json!({"required": true, "content": {"application/octet-stream": {"schema": {"type": "string", "contentMediaType": "application/octet-stream"}}}});
            }
            Body::Form(fields) => {
                let props: serde_json::Map<String, Value> = fields
                    .iter()
                    .map(|(name, description)| {
                        let schema = if *name == "file" {
                            json!({"type": "string", "contentMediaType": "application/octet-stream", "description": description})
                        } else {
                            json!({"type": "string", "description": description})
                        };
                        ((*name).to_owned(), schema)
                    })
                    .collect();
                operation["requestBody"] = json!({"required": true, "content": {"multipart/form-data": {"schema": {"type": "object", "properties": props, "required": ["file"]}}}});
            }
        }
        match r.access {
            Access::Token | Access::Operator => {
                operation["security"] = json!([{"bearer": []}]);
            }
            Access::Server(_) => operation["security"] = json!([{"bearer": []}, {"apiKey": []}]),
            Access::Optional => operation["security"] = json!([{}, {"bearer": []}]),
            Access::Public => operation["security"] = json!([]),
        }
        match r.access {
            Access::Operator => {
                operation["description"] =
                    json!("For `admin` and `system` accounts (403 otherwise).");
            }
            Access::Server(scope) => {
                operation["description"] = json!(format!(
                    "For `admin` and `system` accounts, or an API key with the `{}` scope (403 otherwise).",
                    scope.as_str()
                ));
            }
            _ => {}
        }
        let item = paths.entry(r.path.to_owned()).or_insert_with(|| json!({}));
        item[r.verb.as_str().to_ascii_lowercase()] = operation;
    }
    let schemas: serde_json::Map<String, Value> = components
        .into_iter()
        .map(|(name, s)| (name, serde_json::to_value(&s).unwrap_or_default()))
        .collect();
    let codes: Vec<&str> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "hub",
            "version": env!("CARGO_PKG_VERSION"),
            "description": format!(
                "The hub's REST API. Every error answers `{{\"error\": {{\"code\", \"message\"}}}}` with one of the codes {}. Real-time traffic (rooms, presence, typing, chat, documents) goes over Socket.IO at `/socket.io` and the y-websocket protocol at `/yjs/{{doc}}`; see the README.",
                codes.join(", ")
            ),
        },
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
                "apiKey": {"type": "http", "scheme": "bearer", "bearerFormat": "hk_ API key", "description": "An API key made with POST /api/v1/api-keys, for the server API only."},
            },
        },
    })
}
