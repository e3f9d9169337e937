// The chat scenario with the stock socket.io-client, run by tests/rooms_interop.rs against a
// live hub. Two users see each other join, type, talk, edit, react and read; a third who
// reconnects after missing 50 messages receives exactly those 50.
// Environment: HUB_URL, ROOM, TOKEN_ALICE, TOKEN_BOB, TOKEN_CAROL.
import { io } from "socket.io-client";
import assert from "node:assert/strict";
import { WAIT_MS, next } from "./wait.mjs";

const { HUB_URL: url, ROOM: room } = process.env;

async function connect(token) {
  const s = io(url, { auth: { token }, transports: ["websocket"], reconnection: false });
  await next(s, "connect");
  return s;
}

async function call(socket, event, payload) {
  const ack = await socket.timeout(WAIT_MS).emitWithAck(event, payload);
  assert.equal(ack.ok, true, `${event} failed: ${JSON.stringify(ack)}`);
  return ack;
}

const alice = await connect(process.env.TOKEN_ALICE);
const bob = await connect(process.env.TOKEN_BOB);

const aliceJoin = await call(alice, "room:join", { room });
assert.equal(aliceJoin.role, "owner");
const bobJoined = next(alice, "presence:join", (e) => e.user.user_id === "bob");
await call(bob, "room:join", { room });
assert.equal((await bobJoined).room, room);

const typing = next(alice, "typing", (e) => e.user_id === "bob" && e.typing);
await call(bob, "typing:start", { room });
await typing;

const arrives = next(alice, "chat:message");
const mentioned = next(alice, "notification");
const sent = await call(bob, "chat:send", { room, client_id: "b-1", body: "hi @alice" });
assert.deepEqual(await arrives, sent.message);
const mention = await mentioned;
assert.equal(mention.kind, "mention");
assert.equal(mention.data.message_id, sent.message.id);
assert.equal(mention.read, false);

const edited = next(alice, "chat:updated", (m) => m.body === "hi @alice!");
await call(bob, "chat:edit", { room, id: sent.message.id, body: "hi @alice!" });
assert.ok((await edited).edited_at);

const reacted = next(bob, "chat:updated", (m) => (m.reactions["🎉"] ?? []).includes("alice"));
await call(alice, "chat:react", { room, id: sent.message.id, emoji: "🎉", add: true });
await reacted;

const read = await call(alice, "chat:read", { room, seq: sent.message.seq });
assert.equal(read.unread, 0);

// Carol joins, notes where she is, and drops off.
let carol = await connect(process.env.TOKEN_CAROL);
const seen = (await call(carol, "room:join", { room })).last_seq;
carol.close();

for (let i = 0; i < 50; i++) {
  await call(alice, "chat:send", { room, client_id: `a-${i}`, body: `missed ${i}` });
}

carol = await connect(process.env.TOKEN_CAROL);
const back = await call(carol, "room:join", { room, since: seen });
assert.equal(back.recovered, true);
assert.equal(back.missed.length, 50);
assert.deepEqual(back.missed.map((m) => m.body), Array.from({ length: 50 }, (_, i) => `missed ${i}`));
assert.deepEqual(back.missed.map((m) => m.seq), Array.from({ length: 50 }, (_, i) => seen + 1 + i));

for (const s of [alice, bob, carol]) s.close();
console.log("chat scenario: 1 passed, 0 failed");
