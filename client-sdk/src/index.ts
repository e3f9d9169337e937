// The hub's TypeScript SDK: `HubClient` (a connection that reconnects and recovers, with rooms,
// presence, typing, chat, Yjs documents, notifications and activity as stores), the typed REST
// client, and every wire type and event name, generated from the server's `protocol` crate
// (src/generated/protocol.ts) and route table (src/generated/rest.ts), with typed event maps for
// socket.io-client.
import type { DocError, Echoed } from "./generated/protocol.js";

export * from "./generated/protocol.js";
export { HubClient, type HubClientOptions, type HubClientEvents, type HubSocket, type ConnectionState, type AckOf } from "./client.js";
export { Rooms, Room, Chat, TypingState, type ChatMessage, type RoomState, type JoinOptions, type TypingOptions, type ChatEvents, type RoomEvents } from "./room.js";
export { Docs, DocProvider, YjsWebSocketProvider, type OpenOptions, type DocEvents, type WebSocketLike, type YjsWebSocketOptions } from "./docs.js";
export { Notifications, ActivityFeed } from "./notifications.js";
export { RestClient, REST_OPERATIONS, type RestOperations, type RestApi, type OperationId, type CallOptions, type RestClientOptions } from "./rest.js";
export { HubError } from "./errors.js";
export { HubServer, type HubServerOptions } from "./server.js";
export { verifyWebhook, signWebhook, type WebhookEvent, type VerifyOptions, type HeaderSource } from "./webhooks.js";
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

/** `doc:error`: a `doc:msg` was refused (the generated `DocError`). */
export type DocErrorEvent = DocError;

/** The answer to `sys:echo` (the generated `Echoed`). */
export type EchoOut = Echoed;
