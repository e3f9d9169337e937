// The hub's TypeScript SDK: `HubClient` (a connection that reconnects and recovers, with rooms,
// presence, typing, chat, Yjs documents, notifications and activity as stores), the typed REST
// client, and every wire type and event name, generated from the server's `protocol` crate
// (src/generated/protocol.ts) and route table (src/generated/rest.ts), with typed event maps for
// socket.io-client.
import type {
  ChatEdit,
  ChatHistory,
  ChatReact,
  ChatRead,
  ChatSend,
  Message,
  MessageAck,
  MessagePage,
  MessageRef,
  Notification,
  Pong,
  PresenceChanged,
  PresenceLeft,
  PresenceSet,
  RoomJoin,
  RoomJoined,
  RoomRef,
  RoomRemoved,
  RoomRoleChanged,
  Activity,
  Thread,
  Typing,
  Unread,
  Ack,
  DocJoined,
  DocRef,
  DocRemoved,
  DocError,
  Leaderboard,
  WalletUpdated,
} from "./generated/protocol.js";

export * from "./generated/protocol.js";
export { HubClient, type HubClientOptions, type HubClientEvents, type HubSocket, type ConnectionState, type AckOf } from "./client.js";
export { Rooms, Room, Chat, TypingState, type ChatMessage, type RoomState, type JoinOptions, type TypingOptions, type ChatEvents, type RoomEvents } from "./room.js";
export { Docs, DocProvider, YjsWebSocketProvider, type OpenOptions, type DocEvents, type WebSocketLike, type YjsWebSocketOptions } from "./docs.js";
export { Notifications, ActivityFeed } from "./notifications.js";
export { RestClient, REST_OPERATIONS, type RestOperations, type RestApi, type OperationId, type CallOptions, type RestClientOptions } from "./rest.js";
export { HubError } from "./errors.js";
export { Store, Emitter, type Readable, type Unsubscribe } from "./store.js";
export { Tokens, tokenExpiry, tokenClaims, type TokenSource } from "./token.js";
export {
  verifyInclusion,
  verifyConsistency,
  openCheckpoint,
  leafHash,
  nodeHash,
  type HashLike,
  type OpenedCheckpoint,
} from "./audit.js";

type Reply<T> = (ack: Ack<T>) => void;

/** `doc:error`: a `doc:msg` was refused (the generated `DocError`). */
export type DocErrorEvent = DocError;

/** The answer to `sys:echo`. */
export type EchoOut = { data: ArrayBuffer; size: number };

/** Events the server sends (for `Socket<ServerToClient, ClientToServer>`). */
export interface ServerToClient {
  "presence:join": (e: PresenceChanged) => void;
  "presence:update": (e: PresenceChanged) => void;
  "presence:leave": (e: PresenceLeft) => void;
  typing: (e: Typing) => void;
  "chat:message": (m: Message) => void;
  "chat:updated": (m: Message) => void;
  notification: (n: Notification) => void;
  "room:removed": (e: RoomRemoved) => void;
  /** One y-protocols message of a joined document. */
  "doc:msg": (doc: string, message: ArrayBuffer) => void;
  /** A `doc:msg` of yours was refused. */
  "doc:error": (e: DocErrorEvent) => void;
  /** This socket no longer follows the document (deleted, access removed, fell behind). */
  "doc:removed": (e: DocRemoved) => void;
  "room:role": (e: RoomRoleChanged) => void;
  /** An entry of a venture's activity feed (to the venture's room). */
  activity: (a: Activity) => void;
  /** A venture's leaderboard, pushed to its room when a member's standing changes. */
  leaderboard: (b: Leaderboard) => void;
  /** My wallet's balances, on each of my sockets, when they move. */
  "wallet:updated": (w: WalletUpdated) => void;
}

/** Events a client sends, each with its typed ack. */
export interface ClientToServer {
  "sys:ping": (reply: Reply<Pong>) => void;
  "sys:echo": (req: { data: ArrayBuffer | Uint8Array }, reply: Reply<EchoOut>) => void;
  "room:join": (req: RoomJoin, reply: Reply<RoomJoined>) => void;
  "room:leave": (req: RoomRef, reply: Reply<{ room: string }>) => void;
  "presence:set": (req: PresenceSet, reply: Reply<Record<string, never>>) => void;
  "typing:start": (req: RoomRef, reply: Reply<Record<string, never>>) => void;
  "typing:stop": (req: RoomRef, reply: Reply<Record<string, never>>) => void;
  "chat:send": (req: ChatSend, reply: Reply<MessageAck>) => void;
  "chat:edit": (req: ChatEdit, reply: Reply<MessageAck>) => void;
  "chat:delete": (req: MessageRef, reply: Reply<MessageAck>) => void;
  "chat:react": (req: ChatReact, reply: Reply<MessageAck>) => void;
  "chat:history": (req: ChatHistory, reply: Reply<MessagePage>) => void;
  "chat:thread": (req: MessageRef, reply: Reply<Thread>) => void;
  "chat:read": (req: ChatRead, reply: Reply<Unread>) => void;
  "doc:join": (req: DocRef, reply: Reply<DocJoined>) => void;
  "doc:leave": (req: DocRef, reply: Reply<Record<string, never>>) => void;
  /** Exactly one y-protocols message; the ack is optional. */
  "doc:msg": (doc: string, message: Uint8Array, reply?: Reply<Record<string, never>>) => void;
}
