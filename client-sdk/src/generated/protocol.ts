// Generated from the hub's `protocol` crate. Do not edit by hand:
// run `UPDATE_GENERATED=1 cargo test -p hub-protocol` after changing a wire type.

export type UserId = string;

export type VentureId = string;

export type TeamId = string;

export type RoomId = string;

export type DocId = string;

export type MessageId = string;

export type Role = "owner" | "admin" | "member" | "viewer";

export type AccountRole = "user" | "admin" | "system";

export type ErrorCode = "unauthorized" | "forbidden" | "not_found" | "invalid" | "rate_limited" | "too_large" | "conflict" | "unavailable" | "internal";

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

export type RoomJoin = { room: string, 
/**
 * The last seq this client has seen in the room.
 */
since?: number, };

export type RoomJoined = { room: string, 
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

export type RoomRef = { room: string, };

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

export type PresenceChanged = { room: string, user: PresenceEntry, };

export type PresenceLeft = { room: string, user_id: UserId, };

export type Typing = { room: string, user_id: UserId, typing: boolean, };

export type RoomRemoved = { room: string, reason: string, };

export type RoomRoleChanged = { room: string, role: Role, can_write: boolean, };

export type Message = { id: MessageId, room: string, 
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

export type ChatSend = { room: string, 
/**
 * Chosen by the client, unique per user: a retry with the same id returns the original.
 */
client_id: string, body: string, reply_to?: MessageId, };

export type MessageAck = { message: Message, };

export type ChatEdit = { room: string, id: MessageId, body: string, };

export type MessageRef = { room: string, id: MessageId, };

export type ChatReact = { room: string, id: MessageId, emoji: string, 
/**
 * `true` adds my reaction, `false` removes it.
 */
add: boolean, };

export type ChatHistory = { room: string, before?: number, after?: number, 
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

export type ChatRead = { room: string, seq: number, };

export type Unread = { unread: number, };

export type Notification = { id: string, 
/**
 * `mention`, `member_added`, `member_removed` or `audit_broken` (the domain adds its
 * kinds).
 */
kind: string, 
/**
 * The kind's payload: [`MentionData`] for `mention`, [`MemberData`] for the member kinds,
 * [`AuditBrokenData`] for `audit_broken`.
 */
data: NotificationData, created_at: string, read: boolean, };

export type NotificationData = MentionData | MemberData | AuditBrokenData;

export type MentionData = { room: string, message_id: MessageId, seq: number, author_id: UserId, author_name: string, 
/**
 * The start of the message.
 */
excerpt: string, };

export type MemberData = { venture_id: string, team_id?: string, 
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

export type NotificationList = { notifications: Array<Notification>, unread_count: number, has_more: boolean, };

export type MarkRead = { ids?: Array<string>, all?: boolean, };

export type UnreadCount = { unread_count: number, };

export type CreateDoc = { room: string, title: string, };

export type DocInfo = { id: DocId, room: string, title: string, created_by: UserId, created_at: string, 
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

export type CreateVenture = { name: string, description: string | null, };

export type CreateTeam = { name: string, };

export type PutMember = { user_id: UserId, role: Role, };

export type Venture = { id: VentureId, name: string, description: string | null, created_by: UserId, created_at: string, 
/**
 * The caller's role in this venture (absent for a privileged account that is no member).
 */
role: Role | null, };

export type VentureDetail = { teams: Array<Team>, members: Array<Member>, id: VentureId, name: string, description: string | null, created_by: UserId, created_at: string, 
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
room: string, 
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

export type BrokenEntry = { seq: number, id: string, reason: string, };

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

export type TaskAccepted = { task_id: string, user_id: UserId, venture_id?: VentureId, 
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
status: string, };

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
kind: string, duplicate: boolean, };

/** The ack of every client event: the payload beside `ok: true`, or an error. */
export type Ack<T> = ({ ok: true } & T) | AckErr;

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
  DOC_MSG: "doc:msg",
  DOC_REMOVED: "doc:removed",
  DOC_ERROR: "doc:error",
} as const;

/** The most messages a `room:join` with `since` returns. */
export const MISSED_LIMIT = 500;
