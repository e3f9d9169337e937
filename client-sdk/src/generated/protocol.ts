// Generated from the hub's `protocol` crate. Do not edit by hand:
// run `UPDATE_GENERATED=1 cargo test -p hub-protocol` after changing a wire type.

export type UserId = string;

export type VentureId = string;

export type TeamId = string;

export type RoomId = string;

export type DocId = string;

export type MessageId = string;

export type ClientId = string;

export type FileId = string;

export type ShareId = string;

export type KeyId = string;

export type SignatureId = string;

export type WalletId = string;

export type WindowId = string;

export type ConversionId = string;

export type TaskId = string;

export type NotificationId = string;

export type InvitationId = string;

export type Role = "owner" | "admin" | "member" | "viewer";

export type AccountRole = "user" | "admin" | "system";

export type ErrorCode = "unauthorized" | "forbidden" | "not_found" | "invalid" | "rate_limited" | "busy" | "too_large" | "conflict" | "unavailable" | "internal";

export type ErrorDetail = { code: ErrorCode, message: string, };

export type ErrorBody = { error: ErrorDetail, };

export type AckErr = { ok: boolean, error: ErrorDetail, };

export type HandshakeAuth = { token?: string, };

export type ConnectRefusal = { message: string, };

export type Pong = { 
/**
 * Server time, RFC 3339.
 */
time: string, 
/**
 * The node that answered.
 */
node: string, };

export type Done = Record<symbol, never>;

export type Echo = { data: ArrayBuffer | Uint8Array, };

export type Echoed = { data: ArrayBuffer, size: number, };

export type RoomJoin = { room: RoomId, 
/**
 * The last seq this client has seen in the room.
 */
since?: number, };

export type RoomJoined = { room: RoomId, 
/**
 * My role in the room.
 */
role: Role, 
/**
 * Who is here now, one entry per user.
 */
presence: Array<PresenceEntry>, 
/**
 * Who is typing now.
 */
typing: Array<UserId>, 
/**
 * The seq of the newest message (0 when there is none).
 */
last_seq: number, 
/**
 * Messages after my read marker, not written by me.
 */
unread: number, 
/**
 * With `since`: the messages after it, oldest first (at most `MISSED_LIMIT`).
 */
missed?: Array<Message>, 
/**
 * With `since`: whether `missed` holds all of them. When `false`, page `chat:history`.
 */
recovered?: boolean, };

export type RoomRef = { room: RoomId, };

export type PresenceStatus = "online" | "away" | "busy";

export type PresenceEntry = { user_id: UserId, name: string, status: PresenceStatus, 
/**
 * Free-form JSON the client set with `presence:set` (at most 1 KiB), or null.
 */
meta: unknown, 
/**
 * When the user came into the room (RFC 3339).
 */
since: string, };

export type PresenceSet = { status: PresenceStatus, meta?: unknown, };

export type PresenceChanged = { room: RoomId, user: PresenceEntry, };

export type PresenceLeft = { room: RoomId, user_id: UserId, };

export type Typing = { room: RoomId, user_id: UserId, typing: boolean, };

export type RoomRemoved = { room: RoomId, reason: string, };

export type RoomRoleChanged = { room: RoomId, role: Role, can_write: boolean, };

export type Message = { id: MessageId, room: RoomId, 
/**
 * Per room, from 1, gap-free and strictly increasing. Order by it, not by arrival: in a
 * cluster, seq N+1 can arrive before N, and a message can arrive twice (live and in a
 * page): drop a seq already held.
 */
seq: number, author_id: UserId, client_id: string, 
/**
 * Empty once deleted.
 */
body: string, 
/**
 * The id of the message this one replies to (a thread root).
 */
reply_to: MessageId | null, created_at: string, edited_at: string | null, deleted: boolean, 
/**
 * Emoji → the users who reacted with it, in the order they did.
 */
reactions: { [key in string]: Array<UserId> }, };

export type ChatSend = { room: RoomId, 
/**
 * Chosen by the client, unique per user: a retry with the same id returns the original.
 */
client_id: string, body: string, reply_to?: MessageId, };

export type MessageAck = { message: Message, };

export type ChatEdit = { room: RoomId, id: MessageId, body: string, };

export type MessageRef = { room: RoomId, id: MessageId, };

export type ChatReact = { room: RoomId, id: MessageId, emoji: string, 
/**
 * `true` adds my reaction, `false` removes it.
 */
add: boolean, };

export type ChatHistory = { room: RoomId, before?: number, after?: number, 
/**
 * 1 to 100, default 50.
 */
limit?: number, };

export type MessagePage = { messages: Array<Message>, 
/**
 * More messages lie beyond this page in the direction asked.
 */
has_more: boolean, };

export type Thread = { root: Message, messages: Array<Message>, };

export type ChatRead = { room: RoomId, seq: number, };

export type Unread = { unread: number, };

export type Notification = { 
/**
 * UUID v7: ids order by time.
 */
id: NotificationId, created_at: string, read: boolean, } & ({ "kind": "mention", "data": MentionData } | { "kind": "member_invited", "data": Invitation } | { "kind": "member_added", "data": MemberData } | { "kind": "member_removed", "data": MemberData } | { "kind": "audit_broken", "data": AuditBrokenData } | { "kind": "level_up", "data": LevelUpData } | { "kind": "badge_awarded", "data": BadgeAwardedData } | { "kind": "endorsed", "data": EndorsedData } | { "kind": "skill_verified", "data": SkillVerifiedData } | { "kind": "buz_credited", "data": BuzData } | { "kind": "buz_withheld", "data": BuzData } | { "kind": "conversion_decided", "data": ConversionDecidedData } | { "kind": "document_shared", "data": DocumentSharedData } | { "kind": "document_commented", "data": DocumentCommentedData } | { "kind": "signature_requested", "data": SignatureData } | { "kind": "document_signed", "data": SignatureData } | { "kind": "file_corrupted", "data": FileCorruptedData });

export type NotificationBody = { "kind": "mention", "data": MentionData } | { "kind": "member_invited", "data": Invitation } | { "kind": "member_added", "data": MemberData } | { "kind": "member_removed", "data": MemberData } | { "kind": "audit_broken", "data": AuditBrokenData } | { "kind": "level_up", "data": LevelUpData } | { "kind": "badge_awarded", "data": BadgeAwardedData } | { "kind": "endorsed", "data": EndorsedData } | { "kind": "skill_verified", "data": SkillVerifiedData } | { "kind": "buz_credited", "data": BuzData } | { "kind": "buz_withheld", "data": BuzData } | { "kind": "conversion_decided", "data": ConversionDecidedData } | { "kind": "document_shared", "data": DocumentSharedData } | { "kind": "document_commented", "data": DocumentCommentedData } | { "kind": "signature_requested", "data": SignatureData } | { "kind": "document_signed", "data": SignatureData } | { "kind": "file_corrupted", "data": FileCorruptedData };

export type MentionData = { room: RoomId, message_id: MessageId, seq: number, author_id: UserId, author_name: string, 
/**
 * The start of the message.
 */
excerpt: string, };

export type MemberData = { venture_id: VentureId, team_id?: string, 
/**
 * The role given (`member_added`).
 */
role?: Role, 
/**
 * Who did it.
 */
by: UserId, };

export type AuditBrokenData = { 
/**
 * Each broken scope and its first unrecorded break.
 */
scopes: Array<ScopeIntegrity>, };

export type LevelUpData = { level: number, previous_level: number, xp: number, };

export type BadgeAwardedData = { code: string, name: string, 
/**
 * Why (the admin's reason, or `rule` when the badge's rule awarded it).
 */
reason: string, 
/**
 * XP the badge brought.
 */
xp: number, };

export type EndorsedData = { endorser_id: UserId, skill: string, rating: number, 
/**
 * XP the endorsement brought (0 past the day's endorsement allowance).
 */
xp: number, };

export type SkillVerifiedData = { skill: string, by: UserId, };

export type BuzData = { task_id: TaskId, credited: number, withheld: number, 
/**
 * Why some was withheld (`kyc`, `reputation`, `device`, `velocity`, `daily_cap`,
 * `balance_limit`).
 */
reason: string | null, 
/**
 * The balance after the credit.
 */
buz_balance: number, };

export type ConversionDecidedData = { conversion_id: ConversionId, venture_id: VentureId, 
/**
 * `APPROVED`, `REJECTED` or `EXPIRED`.
 */
status: string, buz_used: number, equity_granted_bp: number | null, note: string | null, };

export type DocumentSharedData = { document_id: FileId, title: string, share_id: ShareId, by: UserId, can_view: boolean, can_comment: boolean, can_sign: boolean, };

export type DocumentCommentedData = { document_id: FileId, title: string, comment_id: string, author_id: UserId, 
/**
 * The start of the comment.
 */
excerpt: string, };

export type SignatureData = { signature_id: SignatureId, document_id: FileId, title: string, signer_id: UserId, requested_by: UserId, };

export type FileCorruptedData = { document_id: FileId, title: string, owner_id: UserId, expected_sha256: string, actual_sha256: string, 
/**
 * `download` or `scrub`.
 */
found_by: string, };

export type NotificationList = { notifications: Array<Notification>, unread_count: number, has_more: boolean, };

export type MarkRead = { ids?: Array<NotificationId>, all?: boolean, };

export type UnreadCount = { unread_count: number, };

export type CreateDoc = { room: RoomId, title: string, };

export type DocInfo = { id: DocId, room: RoomId, title: string, created_by: UserId, created_at: string, 
/**
 * The caller's role in the document's room.
 */
role: Role, };

export type DocList = { docs: Array<DocInfo>, };

export type DocRef = { doc: DocId, };

export type DocJoined = { doc: DocId, role: Role, 
/**
 * Whether this connection may change the document.
 */
can_write: boolean, };

export type DocRemoved = { doc: DocId, reason: string, };

export type DocError = { doc: DocId, error: ErrorDetail, };

export type CreateVenture = { name: string, description: string | null, };

export type CreateTeam = { name: string, };

export type PutMember = { user_id: UserId, role: Role, };

export type Venture = { id: VentureId, name: string, description: string | null, created_by: UserId, created_at: string, 
/**
 * The caller's role in this venture (absent for a privileged account that is no member).
 */
role: Role | null, };

export type VentureDetail = { teams: Array<Team>, members: Array<Member>, 
/**
 * Pending invitations to the venture and its teams, for its owners and admins (empty for
 * everyone else).
 */
invitations: Array<Invitation>, id: VentureId, name: string, description: string | null, created_by: UserId, created_at: string, 
/**
 * The caller's role in this venture (absent for a privileged account that is no member).
 */
role: Role | null, };

export type VentureList = { ventures: Array<Venture>, };

export type Team = { id: TeamId, venture_id: VentureId, name: string, created_by: UserId, created_at: string, 
/**
 * The caller's role in this team, when the caller is a member.
 */
role: Role | null, };

export type TeamDetail = { members: Array<Member>, id: TeamId, venture_id: VentureId, name: string, created_by: UserId, created_at: string, 
/**
 * The caller's role in this team, when the caller is a member.
 */
role: Role | null, };

export type Member = { user_id: UserId, name: string, role: Role, added_at: string, };

export type MemberSet = { 
/**
 * `added`, `changed` or `invited`.
 */
status: string, 
/**
 * The member, when added or changed.
 */
member: Member | null, 
/**
 * The invitation, when invited.
 */
invitation: Invitation | null, };

export type Invitation = { id: InvitationId, venture_id: VentureId, venture_name: string, 
/**
 * Set for an invitation to a team.
 */
team_id: TeamId | null, team_name: string | null, user_id: UserId, 
/**
 * The role the user has once they accept.
 */
role: Role, invited_by: UserId, created_at: string, };

export type InvitationList = { invitations: Array<Invitation>, };

export type User = { id: UserId, name: string, role: AccountRole, };

export type Me = { user: User, ventures: Array<Venture>, teams: Array<Team>, };

export type Health = { 
/**
 * `healthy` or `degraded`.
 */
status: string, timestamp: string, environment: string, 
/**
 * `ok`, or the reason it is not.
 */
database: string, 
/**
 * `ok`, `not_configured`, or the reason it is not ok.
 */
redis: string, services: HealthServices, 
/**
 * Why the status is `degraded` (absent when healthy).
 */
reason?: string | null, };

export type HealthServices = { 
/**
 * `sqlite` or `postgres`.
 */
storage: string, 
/**
 * `in_process` or `redis`.
 */
fanout: string, 
/**
 * Socket.IO connections open on this node.
 */
connections: number, version: string, uptime_seconds: number, 
/**
 * Collaborative documents loaded on this node.
 */
documents_loaded: number, 
/**
 * Document loads from storage since start.
 */
document_loads: number, };

export type RoomSummary = { 
/**
 * `venture:{id}` or `team:{id}`.
 */
room: RoomId, 
/**
 * `venture` or `team`.
 */
kind: string, name: string, venture_id: VentureId, role: Role, last_seq: number, 
/**
 * Messages after my read marker, not written by me.
 */
unread: number, 
/**
 * Unread messages that mention me.
 */
mentions: number, };

export type RoomList = { rooms: Array<RoomSummary>, };

export type DevToken = { 
/**
 * The user's id (letters, digits, `-`, `_`, `.`, `@`; no space or `:`).
 */
user_id: UserId, 
/**
 * The display name; the id when absent.
 */
name?: string, 
/**
 * `user` unless asked otherwise.
 */
role?: AccountRole, 
/**
 * Lifetime in seconds, 1 to 7 days; 12 hours by default.
 */
ttl_secs?: number, };

export type DevTokenIssued = { token: string, user_id: UserId, name: string, role: AccountRole, 
/**
 * RFC 3339.
 */
expires_at: string, 
/**
 * The demo venture the user is a member of.
 */
venture_id: VentureId, 
/**
 * The demo venture's shared document.
 */
doc_id: string, };

export type SampleTask = { 
/**
 * The venture the task belongs to (one the caller is a member of).
 */
venture_id?: VentureId, };

export type WormIntegrity = { 
/**
 * Every scope holds (a break recorded by a `worm.reanchor` entry counts as held).
 */
ok: boolean, checked_at: string, scopes: Array<ScopeIntegrity>, };

export type ScopeIntegrity = { 
/**
 * `venture:{id}`, `user:{id}` or `system`.
 */
scope: string, entries: number, ok: boolean, 
/**
 * The first entry that does not hold and that no `worm.reanchor` entry records.
 */
first_broken: BrokenEntry | null, 
/**
 * Seqs of breaks recorded by `worm.reanchor` entries.
 */
reanchored: Array<number>, };

export type BrokenEntry = { seq: number, 
/**
 * The entry's id, or `(cut)` where entries are missing.
 */
id: string, reason: string, 
/**
 * SHA-256 of what was found as stored: a reanchor passes the break over only while it is
 * the same to the byte.
 */
fingerprint: string, };

export type JobsHealth = { 
/**
 * The scheduler runs on this node.
 */
isRunning: boolean, 
/**
 * The last time any job ran on this node.
 */
lastRun: string | null, jobs: Array<JobStatus>, };

export type JobStatus = { name: string, 
/**
 * `every 5m`.
 */
schedule: string, 
/**
 * Running now on this node.
 */
running: boolean, last_run: string | null, 
/**
 * `ok`, `failed`, or `skipped` (another node held the lease).
 */
last_result: string | null, last_error: string | null, last_duration_ms: number | null, next_run: string | null, };

export type JobRun = { name: string, result: string, error: string | null, duration_ms: number, 
/**
 * What the job reports (for `worm-integrity`: the integrity report).
 */
output: unknown, };

export type AuditRecord = { id: string, scope: string, seq: number, ref_id: string | null, actor_id: string | null, action: string, details: unknown, created_at: number, prev_hash: string | null, hash: string, };

export type LedgerRecord = { id: string, wallet_id: WalletId, seq: number, 
/**
 * `EARN`, `LOCK`, `UNLOCK`, `SPEND` or `ADJUST`.
 */
type: string, amount: number, balance_after: number, task_id: TaskId | null, review_id: string | null, conversion_id: ConversionId | null, note: string | null, created_at: number, prev_hash: string | null, hash: string, };

export type LogEntry = { index: number, 
/**
 * `audit` or `ledger`.
 */
kind: string, 
/**
 * The leaf as the log recorded it: the canonical JSON `{"hash","kind","scope","seq"}`
 * (audit) or `{"hash","kind","seq","wallet_id"}` (ledger).
 */
leaf: string, 
/**
 * `SHA-256(0x00 ‖ leaf)`, base64.
 */
leaf_hash: string, 
/**
 * The audit entry as stored now (`null` when it is gone, or for a ledger leaf).
 */
audit: AuditRecord | null, 
/**
 * The ledger entry as stored now (`null` when it is gone, or for an audit leaf).
 */
ledger: LedgerRecord | null, };

export type LogEntryPage = { entries: Array<LogEntry>, 
/**
 * The log's size when the page was read.
 */
size: number, };

export type InclusionProof = { index: number, size: number, 
/**
 * The leaf's hash, base64.
 */
leaf_hash: string, 
/**
 * The root of the tree of `size` leaves, base64.
 */
root: string, 
/**
 * From the leaf up, base64.
 */
proof: Array<string>, };

export type ConsistencyProof = { from: number, to: number, 
/**
 * The roots of both trees, base64.
 */
from_root: string, to_root: string, proof: Array<string>, };

export type AuditKey = { 
/**
 * The log's origin: the first line of every checkpoint and the signature's name.
 */
origin: string, 
/**
 * The C2SP `signed-note` verifier key: `<name>+<hex key hash>+<base64(0x01 ‖ key)>`.
 */
vkey: string, 
/**
 * The Ed25519 public key alone, base64 (32 bytes).
 */
public_key: string, };

export type CheckpointInfo = { size: number, 
/**
 * base64.
 */
root: string, 
/**
 * Its key in the object store (`audit/checkpoints/…`).
 */
key: string, 
/**
 * The signed note, as served by `GET /api/v1/audit/checkpoint`.
 */
note: string, };

export type CheckpointList = { checkpoints: Array<CheckpointInfo>, 
/**
 * Smaller checkpoints exist: ask again with `before` = the last size of this page.
 */
has_more: boolean, };

export type Activity = { 
/**
 * UUID v7: ids order by time.
 */
id: string, venture_id: VentureId, 
/**
 * Who did it (`null` for the hub itself).
 */
actor_id: UserId | null, 
/**
 * `member.joined`, `member.left`, `member.role_changed`, `team.created`,
 * `document.created`, `task.accepted`.
 */
verb: string, 
/**
 * `user`, `team`, `document` or `task`.
 */
object_kind: string, object_id: string, 
/**
 * Details of the verb (a role, a name, a title).
 */
data: Record<string, unknown>, created_at: string, };

export type ActivityPage = { activities: Array<Activity>, 
/**
 * Older entries exist: ask again with `before` = the last id of this page.
 */
has_more: boolean, };

export type TaskAccepted = { task_id: TaskId, user_id: UserId, venture_id?: VentureId, 
/**
 * `S`, `A`, `B` or `C`.
 */
tier: string, 
/**
 * 0.6 to 1.4.
 */
quality: number, 
/**
 * The reviewers' average trust, 0 to 200.
 */
reviewer_trust: number, };

export type ReviewEvent = { review_id: string, reviewer_id: UserId, user_id: UserId, helpful: boolean, agreed: boolean, 
/**
 * 1 to 5.
 */
quality: number, 
/**
 * 0 to 200.
 */
reviewer_trust: number, };

export type BugEvent = { bug_id: string, user_id: UserId, 
/**
 * `low`, `medium`, `high` or `critical`.
 */
severity: string, };

export type KycEvent = { user_id: UserId, 
/**
 * `PENDING`, `PASSED` or `FAILED`.
 */
status: string, 
/**
 * The event's own id at its source, 1 to 128 characters.
 */
kyc_id?: string, };

export type DeviceEvent = { user_id: UserId, 
/**
 * `YYYY-MM-DD`.
 */
date: string, compliant: boolean, };

export type ViolationEvent = { violation_id: string, user_id: UserId, kind: string, };

export type EventAccepted = { 
/**
 * The event's own id (see each event).
 */
id: string, 
/**
 * `task.accepted`, `review`, `bug`, `kyc`, `device` or `violation`.
 */
kind: string, duplicate: boolean, 
/**
 * For `task.accepted`: the BUZ computed, credited and withheld (a replay answers what the
 * first delivery did).
 */
buz?: BuzOutcome, };

export type Theme = "auto" | "light" | "dark";

export type Profile = { user_id: UserId, 
/**
 * The name the user's token gives.
 */
name: string, nickname: string | null, avatar_url: string | null, bio: string | null, location: string | null, website_url: string | null, theme: Theme, is_public: boolean, 
/**
 * 1 to 10.
 */
level: number, xp: number, 
/**
 * The XP at which the next level starts (`null` at level 10).
 */
next_level_xp: number | null, 
/**
 * Reputation, with up to 3 decimals.
 */
rep_score: number, badges: Array<ProfileBadge>, skills: Array<ProfileSkill>, 
/**
 * When the hub first saw the user.
 */
joined_at: string, };

export type ProfileBadge = { code: string, name: string, awarded_at: string, };

export type ProfileSkill = { name: string, category: string, verified: boolean, 
/**
 * Endorsements received for it.
 */
endorsements: number, evidence_url: string | null, };

export type ProfilePatch = { nickname?: string | null, avatar_url?: string | null, bio?: string | null, location?: string | null, website_url?: string | null, theme?: Theme, is_public?: boolean, };

export type Skill = { 
/**
 * At most 60 characters; unique whatever the case.
 */
name: string, 
/**
 * At most 40 characters.
 */
category: string, };

export type SkillList = { skills: Array<Skill>, };

export type AddSkill = { 
/**
 * A skill of the catalog.
 */
skill: string, 
/**
 * http or https, at most 300 characters.
 */
evidence_url?: string, };

export type Endorse = { user_id: UserId, skill: string, 
/**
 * 1 to 5.
 */
rating: number, 
/**
 * At most 280 characters.
 */
note?: string, };

export type Endorsement = { id: string, endorser_id: UserId, user_id: UserId, skill: string, rating: number, note: string | null, 
/**
 * The endorser's trust weight when they endorsed (clamp(rep / 100, 0.5, 1.5)).
 */
weight: number, 
/**
 * XP it brought the endorsed user (at most 20 a day come from endorsements).
 */
xp: number, created_at: string, };

export type NewPortfolioItem = { 
/**
 * 1 to 120 characters.
 */
title: string, 
/**
 * At most 2000 characters.
 */
summary: string, artifact_url?: string, 
/**
 * BUZ the work earned, 0 or more.
 */
buz?: number, 
/**
 * Free-form figures of the work's impact (an object, at most 4 KiB).
 */
impact?: Record<string, unknown>, 
/**
 * Shown to others (default true).
 */
is_public?: boolean, task_id?: TaskId, };

export type PortfolioItem = { id: string, user_id: UserId, title: string, summary: string, artifact_url: string | null, 
/**
 * BUZ the user claims for it (unchecked; compare `verified.buz_credited`).
 */
buz: number | null, impact: Record<string, unknown>, is_public: boolean, task_id: TaskId | null, created_at: string, 
/**
 * What the hub recorded for `task_id`: null when it knows no accepted task of this user
 * with that id (or the item names none).
 */
verified: VerifiedTask | null, };

export type VerifiedTask = { task_id: TaskId, 
/**
 * The venture the task event named, if any.
 */
venture_id: VentureId | null, 
/**
 * BUZ credited to the user's wallet for the task.
 */
buz_credited: number, 
/**
 * When the hub received the task's acceptance.
 */
accepted_at: string, };

export type Portfolio = { items: Array<PortfolioItem>, };

export type Badge = { 
/**
 * 1 to 40 characters of `a-z`, `0-9`, `_` and `-`.
 */
code: string, name: string, description: string, 
/**
 * `{"type": "THRESHOLD", "conditions": [...]}`, `{"type": "COMPOSITE", "all" | "any": [...]}`
 * or `{"type": "MANUAL"}` (see the README).
 */
rule: Record<string, unknown>, awarded_count: number, };

export type BadgeList = { badges: Array<Badge>, };

export type CreateBadge = { code: string, 
/**
 * 1 to 80 characters.
 */
name: string, 
/**
 * At most 280 characters.
 */
description: string, rule: Record<string, unknown>, };

export type PatchBadge = { name?: string, description?: string, rule?: Record<string, unknown>, };

export type AwardBadge = { user_id: UserId, 
/**
 * At most 280 characters.
 */
reason?: string, };

export type BadgeAward = { code: string, user_id: UserId, awarded: boolean, reason: string, awarded_at: string, };

export type EvaluateBadges = { user_id?: UserId, };

export type BadgesEvaluated = { user_id: UserId, awarded: Array<string>, };

export type Leaderboard = { venture_id: VentureId, 
/**
 * `xp` or `reputation`.
 */
by: string, entries: Array<LeaderboardEntry>, };

export type LeaderboardEntry = { 
/**
 * From 1; ties share a rank.
 */
rank: number, user_id: UserId, name: string, level: number, xp: number, rep_score: number, };

export type GamificationStatus = { users: number, private_profiles: number, xp_total: number, badges_awarded: number, badges: Array<BadgeCount>, 
/**
 * The gamification jobs (`reputation-daily`, `badges-hourly`) on the node asked.
 */
jobs: Array<JobStatus>, };

export type BadgeCount = { code: string, awarded_count: number, };

export type Wallet = { id: WalletId, user_id: UserId, buz_balance: number, 
/**
 * BUZ locked by pending conversion requests.
 */
pending_lock: number, 
/**
 * `buz_balance - pending_lock`, never negative.
 */
available: number, 
/**
 * The on-chain address the wallet is linked to (`null` until linked).
 */
chain_address: string | null, chain_type: string | null, updated_at: string, };

export type LedgerEntry = { id: string, wallet_id: WalletId, 
/**
 * Per wallet, from 1, gap-free.
 */
seq: number, 
/**
 * `EARN`, `LOCK`, `UNLOCK`, `SPEND` or `ADJUST`.
 */
type: string, amount: number, balance_after: number, task_id: TaskId | null, review_id: string | null, conversion_id: ConversionId | null, note: string | null, created_at: string, prev_hash: string | null, hash: string, };

export type LedgerPage = { entries: Array<LedgerEntry>, 
/**
 * Older entries exist: ask again with `before` = the last seq of this page.
 */
has_more: boolean, };

export type WalletVerify = { ok: boolean, entries: number, 
/**
 * The amounts add up to the wallet's balance and pending lock.
 */
balance_matches: boolean, first_broken: BrokenLedgerEntry | null, };

export type BrokenLedgerEntry = { seq: number, id: string, reason: string, };

export type WithheldBuz = { id: string, task_id: TaskId, user_id: UserId, amount: number, 
/**
 * `kyc`, `reputation`, `device`, `velocity`, `daily_cap` or `balance_limit`.
 */
reason: string, created_at: string, };

export type WithheldList = { withheld: Array<WithheldBuz>, has_more: boolean, };

export type BuzOutcome = { computed: number, credited: number, withheld: number, 
/**
 * Why some or all was withheld (`null` when all was credited).
 */
reason: string | null, };

export type WalletUpdated = { buz_balance: number, pending_lock: number, available: number, };

export type Adjust = { amount: number, 
/**
 * 1 to 280 characters: why.
 */
note: string, };

export type ConversionWindow = { id: WindowId, name: string, opens_at: string, closes_at: string, 
/**
 * Basis points of the venture's equity per 1,000 BUZ.
 */
equity_rate_bps: number, 
/**
 * `SCHEDULED`, `OPEN`, `CLOSED` or `FINALIZED`.
 */
status: string, };

export type CreateWindow = { 
/**
 * 1 to 80 characters.
 */
name: string, 
/**
 * RFC 3339.
 */
opens_at: string, 
/**
 * RFC 3339, after `opens_at`.
 */
closes_at: string, 
/**
 * 1 to 10,000.
 */
equity_rate_bps: number, };

export type ActiveWindow = { window: ConversionWindow | null, };

export type WindowList = { windows: Array<ConversionWindow>, };

export type ConvertRequest = { window_id: WindowId, venture_id: VentureId, buz: number, };

export type Conversion = { id: ConversionId, user_id: UserId, venture_id: VentureId, window_id: WindowId, 
/**
 * `PENDING`, `APPROVED`, `REJECTED` or `EXPIRED`.
 */
status: string, buz_used: number, 
/**
 * floor(buz × equity_rate_bps / 1000), once approved.
 */
equity_granted_bp: number | null, note: string | null, decided_by: UserId | null, decided_at: string | null, created_at: string, };

export type Decide = { approve: boolean, 
/**
 * At most 280 characters.
 */
note?: string, };

export type ConversionList = { conversions: Array<Conversion>, };

export type FileDoc = { id: FileId, owner_id: UserId, title: string, 
/**
 * `contract`, `invoice`, … (1–40 characters of a-z, 0-9, _ and -).
 */
type: string, file_name: string, content_type: string, size: number, 
/**
 * Lowercase hex SHA-256 of the content (also its `ETag`).
 */
checksum_sha256: string, venture_id: VentureId | null, client_id: ClientId | null, 
/**
 * Under a legal hold: it cannot be deleted.
 */
on_hold: boolean, 
/**
 * The stored content no longer matches its checksum (found by a download or the scrub).
 */
corrupted: boolean, created_at: string, };

export type FileList = { documents: Array<FileDoc>, };

export type NewShare = { to_user_id?: UserId, client_id?: ClientId, 
/**
 * Default true.
 */
can_view?: boolean, can_comment?: boolean, can_sign?: boolean, 
/**
 * RFC 3339; none: until revoked (a client link expires after `HUB_SHARE_LINK_TTL`).
 */
expires_at?: string, };

export type Share = { id: ShareId, document_id: FileId, to_user_id: UserId | null, client_id: ClientId | null, can_view: boolean, can_comment: boolean, can_sign: boolean, expires_at: string | null, revoked: boolean, created_by: UserId, created_at: string, 
/**
 * For a client share, when created: the link's path with its signed token
 * (`/api/v1/shared/{token}`; its content at `/api/v1/shared/{token}/content`).
 */
link?: string, };

export type ShareList = { shares: Array<Share>, };

export type SharedDoc = { document: FileDoc, share: Share, };

export type NewComment = { 
/**
 * 1 to 2000 characters.
 */
body: string, };

export type Comment = { id: string, document_id: FileId, author_id: UserId, body: string, created_at: string, };

export type CommentList = { comments: Array<Comment>, };

export type Hold = { 
/**
 * 1 to 280 characters.
 */
reason: string, };

export type Client = { id: ClientId, owner_id: UserId, name: string, email: string | null, phone: string | null, organization: string | null, tags: Array<string>, created_at: string, updated_at: string, };

export type NewClient = { name: string, email?: string, phone?: string, organization?: string, tags?: Array<string>, };

export type PatchClient = { name?: string, email?: string | null, phone?: string | null, organization?: string | null, tags?: Array<string>, };

export type ClientList = { clients: Array<Client>, };

export type NewKey = { jwk?: { kty: string, crv: string, x: string, y: string }, spki_pem?: string, };

export type SigningKey = { id: KeyId, 
/**
 * Lowercase hex SHA-256 of the key's SPKI DER.
 */
fingerprint: string, created_at: string, };

export type KeyList = { keys: Array<SigningKey>, };

export type RequestSignature = { document_id: FileId, signer_id: UserId, };

export type Sign = { key_id: KeyId, 
/**
 * base64url of the raw `r‖s` (64 bytes, WebCrypto's output) or of DER.
 */
signature: string, };

export type Signature = { id: SignatureId, document_id: FileId, signer_id: UserId, requested_by: UserId, 
/**
 * `REQUESTED` or `SIGNED`.
 */
status: string, 
/**
 * The message to sign, and signed: `hub-signature:v2:{document_id}:{checksum_sha256}:{id}:{signer_id}`
 * (`hub-signature:v1:{document_id}:{checksum_sha256}` on requests made before v2).
 */
message: string, key_fingerprint: string | null, signature: string | null, signed_at: string | null, created_at: string, };

export type SignatureList = { signatures: Array<Signature>, };

export type ApiKeyId = string;

export type PublicationId = string;

export type Publication = { id: PublicationId, 
/**
 * The room it was published to (`user:{id}` for a user's sockets).
 */
room: RoomId, 
/**
 * The publisher's name for it: 1 to 64 of `A-Z a-z 0-9 : . _ -`.
 */
event: string, 
/**
 * What the publisher sent, as it sent it (at most `HUB_PUBLISH_MAX_BYTES` of JSON).
 */
data: unknown, 
/**
 * With `store: true`: its place in the room's publications (1, 2, 3…, no gap), for a
 * client to ask for what it missed (`GET /api/v1/rooms/{room}/publications?after=`).
 */
seq?: number, 
/**
 * When the hub took it (RFC 3339).
 */
published_at: string, };

export type Publish = { event: string, data: unknown, 
/**
 * Keep it in the room's publications with a `seq` (rooms only; default `false`).
 */
store?: boolean, };

export type Broadcast = { rooms: Array<RoomId>, event: string, data: unknown, };

export type Published = { publications: Array<Publication>, };

export type PublicationPage = { publications: Array<Publication>, 
/**
 * More lie after the last one.
 */
has_more: boolean, };

export type PresenceCount = { users: number, connections: number, };

export type RoomPresence = { room: RoomId, presence: Array<PresenceEntry>, typing: Array<UserId>, count: PresenceCount, };

export type CountRooms = { rooms: Array<RoomId>, };

export type PresenceCounts = { rooms: Array<RoomCount>, };

export type RoomCount = { room: RoomId, count: PresenceCount, };

export type Disconnect = { reason?: string, };

export type Disconnected = { user_id: UserId, reason: string, 
/**
 * For a revocation: tokens issued (`iat`) before this time (RFC 3339) are refused.
 */
revoked_before?: string, };

export type SessionClosed = { code: SessionCloseCode, reason: string, };

export type SessionReconnect = { 
/**
 * `draining`.
 */
reason: string, after_ms: number, };

export type SessionCloseCode = "disconnected" | "revoked";

export type Scope = "publish" | "presence" | "disconnect" | "events" | "webhooks";

export type ApiKey = { id: ApiKeyId, name: string, scopes: Array<Scope>, 
/**
 * The key's first characters (`hk_` and 8 more), to tell keys apart.
 */
prefix: string, created_by: UserId, created_at: string, last_used_at?: string, revoked_at?: string, };

export type NewApiKey = { name: string, scopes: Array<Scope>, };

export type CreatedApiKey = { key: ApiKey, 
/**
 * `hk_…`: use as `Authorization: Bearer hk_…`.
 */
secret: string, };

export type ApiKeyList = { keys: Array<ApiKey>, };

export type WebhookId = string;

export type DeliveryId = string;

export type Webhook = { id: WebhookId, url: string, 
/**
 * The event types it hears (`*`: all of them).
 */
events: Array<string>, 
/**
 * Chat messages only from these rooms (absent: every room).
 */
rooms?: Array<RoomId>, description: string, created_by: UserId, created_at: string, 
/**
 * Disabled endpoints hear nothing new; what was made for them stays.
 */
disabled: boolean, };

export type NewWebhook = { 
/**
 * `http(s)://…`; a private, loopback or link-local target is refused unless the operator
 * allows them (`HUB_WEBHOOK_ALLOW_PRIVATE`).
 */
url: string, events: Array<string>, rooms?: Array<RoomId>, 
/**
 * `whsec_…` (base64 of 24 to 64 bytes); one is made when absent.
 */
secret?: string, description?: string, };

export type PatchWebhook = { events?: Array<string>, disabled?: boolean, };

export type CreatedWebhook = { webhook: Webhook, secret: string, };

export type WebhookList = { webhooks: Array<Webhook>, };

export type DeliveryState = "pending" | "delivered" | "dead";

export type Delivery = { id: DeliveryId, webhook_id: WebhookId, 
/**
 * Its place in the endpoint's order.
 */
seq: number, type: string, state: DeliveryState, attempts: number, created_at: string, next_attempt_at?: string, delivered_at?: string, 
/**
 * The HTTP status of the last try, if it got an answer.
 */
last_status?: number, last_error?: string, 
/**
 * The body sent: `{type, timestamp, data}`.
 */
payload: unknown, };

export type Attempt = { attempt: number, at: string, status?: number, duration_ms: number, error?: string, };

export type DeliveryList = { deliveries: Array<Delivery>, };

export type DeliveryLog = { delivery: Delivery, attempts: Array<Attempt>, };

/** The ack of every client event: the payload beside `ok: true`, or an error. */
export type Ack<T> = ({ ok: true } & T) | AckErr;

/** A client event's ack callback. */
export type Reply<T> = (ack: Ack<T>) => void;

export const ClientEvents = {
  SYS_PING: "sys:ping",
  SYS_ECHO: "sys:echo",
  ROOM_JOIN: "room:join",
  ROOM_LEAVE: "room:leave",
  PRESENCE_SET: "presence:set",
  TYPING_START: "typing:start",
  TYPING_STOP: "typing:stop",
  CHAT_SEND: "chat:send",
  CHAT_EDIT: "chat:edit",
  CHAT_DELETE: "chat:delete",
  CHAT_REACT: "chat:react",
  CHAT_HISTORY: "chat:history",
  CHAT_THREAD: "chat:thread",
  CHAT_READ: "chat:read",
  DOC_JOIN: "doc:join",
  DOC_LEAVE: "doc:leave",
  DOC_MSG: "doc:msg",
} as const;

export const ServerEvents = {
  PRESENCE_JOIN: "presence:join",
  PRESENCE_UPDATE: "presence:update",
  PRESENCE_LEAVE: "presence:leave",
  TYPING: "typing",
  CHAT_MESSAGE: "chat:message",
  CHAT_UPDATED: "chat:updated",
  NOTIFICATION: "notification",
  ROOM_REMOVED: "room:removed",
  ROOM_ROLE: "room:role",
  ACTIVITY: "activity",
  LEADERBOARD: "leaderboard",
  WALLET_UPDATED: "wallet:updated",
  DOC_MSG: "doc:msg",
  DOC_REMOVED: "doc:removed",
  DOC_ERROR: "doc:error",
  SERVER_EVENT: "server:event",
  SESSION_CLOSED: "session:closed",
  SESSION_RECONNECT: "session:reconnect",
} as const;

/** Events the server sends (for `Socket<ServerToClient, ClientToServer>`). */
export interface ServerToClient {
  /** Someone came online in a room (or opened another tab). */
  "presence:join": (e: PresenceChanged) => void;
  /** Someone's presence status or metadata changed. */
  "presence:update": (e: PresenceChanged) => void;
  /** Someone left a room (their last tab, or their grace period ended). */
  "presence:leave": (e: PresenceLeft) => void;
  /** Who is typing in a room. */
  "typing": (e: Typing) => void;
  /** A new chat message in a joined room. */
  "chat:message": (e: Message) => void;
  /** A message was edited, deleted or reacted to. */
  "chat:updated": (e: Message) => void;
  /** A stored notification of the user, live. */
  "notification": (e: Notification) => void;
  /** The user lost access to a room (membership removed); its sockets have left it. */
  "room:removed": (e: RoomRemoved) => void;
  /** `{room, role, can_write}`: the user's role in a room changed; it applies at once. */
  "room:role": (e: RoomRoleChanged) => void;
  /** An entry of a venture's activity feed, to the `venture:{id}` room. */
  "activity": (e: Activity) => void;
  /** A venture's leaderboard changed (`Leaderboard`), to the `venture:{id}` room, throttled. */
  "leaderboard": (e: Leaderboard) => void;
  /** `{buz_balance, pending_lock, available}`: the user's wallet changed. */
  "wallet:updated": (e: WalletUpdated) => void;
  /** One y-protocols message of a joined document. */
  "doc:msg": (doc: string, message: ArrayBuffer) => void;
  /** This socket no longer follows the document (deleted, access removed, fell behind). */
  "doc:removed": (e: DocRemoved) => void;
  /** `{doc, error}`: a `doc:msg` was refused. */
  "doc:error": (e: DocError) => void;
  /** An event another backend published through the server API, to a joined room or to the user (`room` is then `user:{id}`). */
  "server:event": (e: Publication) => void;
  /** `{code, reason}`: the hub closes this connection (a disconnect or a revocation through the server API); the server disconnect follows. */
  "session:closed": (e: SessionClosed) => void;
  /** `{reason, after_ms}`: this node is going away (draining); the server disconnect follows. Connect again after `after_ms`: another node takes the connection. */
  "session:reconnect": (e: SessionReconnect) => void;
}

/** Events a client sends, each with its typed ack. */
export interface ClientToServer {
  /** Diagnostic: answers with the server time, to measure round trips. */
  "sys:ping": (reply: Reply<Pong>) => void;
  /** Diagnostic: answers with the binary payload it was given. */
  "sys:echo": (req: Echo, reply: Reply<Echoed>) => void;
  /** Joins a room: its presence, typing, the caller's role and chat position, and what was missed since `since`. */
  "room:join": (req: RoomJoin, reply: Reply<RoomJoined>) => void;
  /** Leaves a room. */
  "room:leave": (req: RoomRef, reply: Reply<RoomRef>) => void;
  /** Sets the caller's presence status and metadata in a joined room. */
  "presence:set": (req: PresenceSet, reply: Reply<Done>) => void;
  /** The caller started typing in a joined room. */
  "typing:start": (req: RoomRef, reply: Reply<Done>) => void;
  /** The caller stopped typing. */
  "typing:stop": (req: RoomRef, reply: Reply<Done>) => void;
  /** Sends a chat message: acknowledged once stored, with its `seq`. */
  "chat:send": (req: ChatSend, reply: Reply<MessageAck>) => void;
  /** Edits one of the caller's messages. */
  "chat:edit": (req: ChatEdit, reply: Reply<MessageAck>) => void;
  /** Deletes a message (its author, or the room's owners and admins). */
  "chat:delete": (req: MessageRef, reply: Reply<MessageAck>) => void;
  /** Adds or removes a reaction. */
  "chat:react": (req: ChatReact, reply: Reply<MessageAck>) => void;
  /** A page of a room's history. */
  "chat:history": (req: ChatHistory, reply: Reply<MessagePage>) => void;
  /** A message and its replies. */
  "chat:thread": (req: MessageRef, reply: Reply<Thread>) => void;
  /** Moves the caller's read marker; the unread count after. */
  "chat:read": (req: ChatRead, reply: Reply<Unread>) => void;
  /** Follows a document over this socket (Yjs sync starts with `doc:msg`). */
  "doc:join": (req: DocRef, reply: Reply<DocJoined>) => void;
  /** Stops following a document. */
  "doc:leave": (req: DocRef, reply: Reply<Done>) => void;
  /** `(doc_id, bytes)`: exactly one y-protocols message, both directions; the ack is optional. */
  "doc:msg": (doc: string, message: Uint8Array, reply?: Reply<Done>) => void;
}

/** The most messages a `room:join` with `since` returns. */
export const MISSED_LIMIT = 500;
