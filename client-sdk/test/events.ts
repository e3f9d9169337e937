// Compile-time checks of the typed event maps (`npm run --prefix client-sdk test`): correct
// uses compile, and each `@ts-expect-error` line must fail to compile, or tsc reports it.
import type { Socket } from "socket.io-client";
import type { ClientToServer, ServerToClient } from "../src/index.js";

declare const socket: Socket<ServerToClient, ClientToServer>;

socket.emit("doc:join", { doc: "d1" }, (ack) => {
  if (ack.ok && "can_write" in ack) {
    const writable: boolean = ack.can_write;
    void writable;
  }
});
socket.emit("doc:msg", "d1", new Uint8Array([0, 0, 0]));
socket.emit("doc:leave", { doc: "d1" }, () => {});
socket.emit("sys:echo", { data: new Uint8Array([1]) }, (ack) => void ack);
socket.on("doc:msg", (doc, message) => void [doc.length, message.byteLength]);
socket.on("doc:error", (e) => void e.error.code);
socket.on("doc:removed", (e) => void e.reason);
socket.on("room:role", (e) => void [e.room, e.role, e.can_write]);
socket.on("activity", (a) => void [a.verb, a.object_kind, a.object_id, a.venture_id]);

// @ts-expect-error: doc:join takes {doc}
socket.emit("doc:join", { room: "venture:x" }, () => {});
// @ts-expect-error: doc:msg carries bytes, not text
socket.emit("doc:msg", "d1", "not bytes");
// @ts-expect-error: no such server event
socket.on("doc:nothing", () => {});
