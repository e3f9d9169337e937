// The hub's TypeScript SDK. The wire types and event names are generated from the server's
// `protocol` crate (src/generated/protocol.ts); this module re-exports them with typed event
// maps for socket.io-client.
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
  Thread,
  Typing,
  Unread,
  Ack,
} from "./generated/protocol.js";

export * from "./generated/protocol.js";

type Reply<T> = (ack: Ack<T>) => void;

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
  "room:role": (e: RoomRoleChanged) => void;
}

/** Events a client sends, each with its typed ack. */
export interface ClientToServer {
  "sys:ping": (reply: Reply<Pong>) => void;
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
}
