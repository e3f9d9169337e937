// Stock clients spread over the nodes of a hub cluster, run by tests/cluster.rs: socket.io-client
// users on three different nodes see each other's presence and typing and every chat message
// (ordered by seq, gap-free, none twice), and y-websocket editors on two nodes converge.
// Environment: HUB_URLS (comma-separated, one per node), ROOM, DOC, TOKEN_ALICE, TOKEN_BOB,
// TOKEN_CAROL.
import { io } from "socket.io-client";
import * as Y from "yjs";
import { WebsocketProvider } from "y-websocket";
import WebSocket from "ws";
import assert from "node:assert/strict";
import { WAIT_MS, next, until } from "./wait.mjs";

const { ROOM: room, DOC: doc } = process.env;
// Where the scenario is, said if it gets stuck.
let stage = "start";
const step = (name) => { stage = name; };
setTimeout(() => { console.error(`stuck at: ${stage}`); process.exit(2); }, 60_000).unref();
const urls = process.env.HUB_URLS.split(",");
assert.ok(urls.length >= 3, "three nodes");

async function connect(url, token) {
  const s = io(url, { auth: { token }, transports: ["websocket"], reconnection: false });
  await next(s, "connect");
  return s;
}

async function call(socket, event, payload) {
  const ack = await socket.timeout(WAIT_MS).emitWithAck(event, payload);
  assert.equal(ack.ok, true, `${event} failed: ${JSON.stringify(ack)}`);
  return ack;
}

step("connect");
// One user per node.
const alice = await connect(urls[0], process.env.TOKEN_ALICE);
const bob = await connect(urls[1], process.env.TOKEN_BOB);
const carol = await connect(urls[2], process.env.TOKEN_CAROL);

step("presence");
// Presence crosses nodes, each join announced once.
const joins = [];
alice.on("presence:join", (e) => joins.push(e.user.user_id));
await call(alice, "room:join", { room });
await call(bob, "room:join", { room });
await call(carol, "room:join", { room });
await until("alice sees bob and carol join", () => joins.includes("bob") && joins.includes("carol"));
const carolJoin = await call(carol, "room:join", { room });
const present = carolJoin.presence.map((p) => p.user_id).sort();
assert.deepEqual(present, ["alice", "bob", "carol"]);

step("typing");
// Typing crosses nodes.
const typingOnA = next(alice, "typing", (e) => e.user_id === "bob" && e.typing);
const typingOnC = next(carol, "typing", (e) => e.user_id === "bob" && e.typing);
await call(bob, "typing:start", { room });
await Promise.all([typingOnA, typingOnC]);

step("chat");
// Chat from two nodes at once: every receiver gets every message it did not send, once; the
// seqs together are 1..N with no gap. Arrival order may differ from seq order.
const PER_SENDER = 25;
const seen = new Map([["alice", new Map()], ["bob", new Map()], ["carol", new Map()]]);
for (const [name, socket] of [["alice", alice], ["bob", bob], ["carol", carol]]) {
  socket.on("chat:message", (m) => {
    const mine = seen.get(name);
    assert.ok(!mine.has(m.seq), `${name} got seq ${m.seq} twice`);
    mine.set(m.seq, m);
  });
}
const sends = [];
for (let i = 0; i < PER_SENDER; i++) {
  sends.push(call(alice, "chat:send", { room, client_id: `a-${i}`, body: `from alice ${i}` }));
  sends.push(call(bob, "chat:send", { room, client_id: `b-${i}`, body: `from bob ${i}` }));
}
const acks = await Promise.all(sends);
const seqs = acks.map((a) => a.message.seq).sort((x, y) => x - y);
assert.deepEqual(seqs, Array.from({ length: 2 * PER_SENDER }, (_, i) => i + 1), "gap-free seqs");
await until("every message everywhere", () =>
  seen.get("carol").size === 2 * PER_SENDER &&
  seen.get("alice").size === PER_SENDER &&
  seen.get("bob").size === PER_SENDER);
for (const m of seen.get("alice").values()) assert.ok(m.body.startsWith("from bob"));
for (const m of seen.get("bob").values()) assert.ok(m.body.startsWith("from alice"));

step("documents");
// Documents: y-websocket editors on node 0 and node 2 converge.
async function editor(url, token) {
  const ydoc = new Y.Doc();
  const provider = new WebsocketProvider(url.replace(/^http/, "ws") + "/yjs", doc, ydoc, {
    params: { token },
    WebSocketPolyfill: WebSocket,
    disableBc: true,
  });
  await until(`sync on ${url}`, () => provider.synced);
  return { provider, text: ydoc.getText("t") };
}
const ea = await editor(urls[0], process.env.TOKEN_ALICE);
const ec = await editor(urls[2], process.env.TOKEN_CAROL);
ea.text.insert(0, "from node 0 ");
ec.text.insert(0, "from node 2 ");
await until("cross-node convergence", () =>
  ea.text.toString() === ec.text.toString() && ea.text.length === 24);

step("close");
ea.provider.destroy();
ec.provider.destroy();
for (const s of [alice, bob, carol]) s.close();
console.log("cluster scenario ok");
// Providers keep timers of their own; the scenario is over.
process.exit(0);
