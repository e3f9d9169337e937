// Recovery through the SDK against a real hub: a kill of the hub mid-stream, a draining hub's
// reconnect hint, a slow-consumer eviction, an expiring token. Each time, the application sees every message exactly once and
// in seq order.
import assert from "node:assert/strict";
import { test } from "node:test";
import { HubClient } from "../dist/index.js";
import { Hub, until } from "./hub.mjs";

const FAST = { reconnectDelayMs: 100, reconnectDelayMaxMs: 500, ackTimeoutMs: 3000 };

async function client(hub, user, options = {}) {
  const t = await hub.token(user);
  const getToken = async () => (await hub.token(user)).token;
  const c = new HubClient({ url: hub.url, getToken, ...FAST, ...options });
  await until(`${user} connected`, () => c.state.get() === "connected");
  return { c, room: `venture:${t.venture_id}` };
}

function assertExactlyOnceInOrder(got, expected) {
  const seqs = got.map((m) => m.seq);
  for (let i = 1; i < seqs.length; i++) assert.equal(seqs[i], seqs[i - 1] + 1, `gap or repeat at ${i}: ${seqs.slice(i - 2, i + 2)}`);
  assert.deepEqual(got.map((m) => m.body), expected);
}

test("a hub killed mid-stream: every acknowledged message exactly once, in order, and the unacknowledged ones retried", async () => {
  const hub = await Hub.start();
  try {
    const { c: ann, room } = await client(hub, "ann");
    const { c: bob } = await client(hub, "bob");
    const annRoom = await ann.rooms.join(room);
    const bobRoom = await bob.rooms.join(room);
    const got = [];
    bobRoom.chat.on("message", (m) => got.push(m));
    const bodies = Array.from({ length: 120 }, (_, i) => `m${i}`);
    // Sent as fast as the outbox goes; the hub dies under it.
    const sends = bodies.map((b) => annRoom.chat.send(b));
    await until("some delivered", () => got.length >= 30);
    await hub.kill();
    await until("both see the drop", () => ann.state.get() === "reconnecting" && bob.state.get() === "reconnecting");
    const during = got.length;
    await hub.restart();
    const confirmed = await Promise.all(sends);
    await until("bob has them all", () => got.length === bodies.length, 20_000);
    assert.ok(during < bodies.length, "the kill came mid-stream");
    assertExactlyOnceInOrder(got, bodies);
    assert.deepEqual(confirmed.map((m) => m.body), bodies);
    // And the hub stored each once (a retry with the same client_id returned the original).
    const page = await bob.request("chat:history", { room, after: 0, limit: 100 });
    const page2 = await bob.request("chat:history", { room, after: 100, limit: 100 });
    assert.deepEqual([...page.messages, ...page2.messages].map((m) => m.body), bodies);
    assert.equal(annRoom.chat.messages.get().filter((m) => m.pending).length, 0);
    ann.close();
    bob.close();
  } finally {
    await hub.stop();
  }
});

test("a draining hub's reconnect hint is followed: the client waits what it was told, then resumes every room", async () => {
  // The hub tells each client to wait up to 1.5 s; the client's own backoff is far shorter,
  // so a reconnect before the hint's delay would be the backoff's, not the hint's.
  const hub = await Hub.start({ HUB_DRAIN_SECONDS: "0.2", HUB_DRAIN_JITTER: "1500ms" });
  try {
    const { c: ann, room } = await client(hub, "ann");
    const { c: bob } = await client(hub, "bob");
    const annRoom = await ann.rooms.join(room);
    const bobRoom = await bob.rooms.join(room);
    const got = [];
    bobRoom.chat.on("message", (m) => got.push(m));
    await annRoom.chat.send("before");
    await until("bob has the first", () => got.length === 1);
    const hints = [];
    bob.on("draining", (h) => hints.push({ ...h, at: Date.now() }));
    const attempts = [];
    const connect = bob.socket.connect.bind(bob.socket);
    bob.socket.connect = () => {
      attempts.push(Date.now());
      return connect();
    };
    const exited = hub.terminate();
    await until("bob is told to reconnect", () => hints.length === 1);
    assert.equal(hints[0].reason, "draining");
    assert.ok(hints[0].after_ms >= 0 && hints[0].after_ms <= 1500, `${hints[0].after_ms}`);
    await until("bob is reconnecting", () => bob.state.get() === "reconnecting");
    await exited;
    await until("bob tried again", () => attempts.length >= 1, 5_000);
    assert.ok(
      attempts[0] - hints[0].at >= hints[0].after_ms - 5,
      `tried ${attempts[0] - hints[0].at} ms after the hint, told ${hints[0].after_ms} ms`,
    );
    // The node comes back (another node behind a load balancer, in production).
    await hub.restart();
    await until("both are back", () => ann.state.get() === "connected" && bob.state.get() === "connected", 20_000);
    await annRoom.chat.send("after");
    await until("bob has the second", () => got.length === 2);
    assertExactlyOnceInOrder(got, ["before", "after"]);
    ann.close();
    bob.close();
  } finally {
    await hub.stop();
  }
});

test("an evicted slow consumer reconnects by itself and misses nothing", async () => {
  const hub = await Hub.start({ HUB_SOCKET_BUFFER: "2", HUB_MAX_MESSAGE_CHARS: "200000" });
  try {
    const { c: ann, room } = await client(hub, "ann", { transports: ["websocket"] });
    const { c: bob } = await client(hub, "bob", { transports: ["websocket"] });
    const annRoom = await ann.rooms.join(room);
    const bobRoom = await bob.rooms.join(room);
    const got = [];
    bobRoom.chat.on("message", (m) => got.push(m));
    const reasons = [];
    bob.on("disconnect", (r) => reasons.push(r));
    // Bob stops reading: the kernel's buffers fill, then the hub's 2-packet buffer.
    const tcp = bob.socket.io.engine.transport.ws._socket;
    tcp.pause();
    const big = "x".repeat(150_000);
    const bodies = [];
    const metric = async () => {
      const text = await (await fetch(`${hub.url}/metrics`)).text();
      const line = text.split("\n").find((l) => l.startsWith("hub_socket_slow_consumers_total"));
      return line ? Number(line.split(" ").at(-1)) : 0;
    };
    while ((await metric()) === 0) {
      const body = `${bodies.length}:${big}`;
      bodies.push(body);
      await annRoom.chat.send(body);
      assert.ok(bodies.length < 2000, "bob was never evicted");
    }
    tcp.resume();
    await until("bob evicted", () => reasons.includes("io server disconnect"));
    await until("bob back", () => bob.state.get() === "connected" && bobRoom.joined);
    await annRoom.chat.send("after");
    bodies.push("after");
    await until("bob has them all", () => got.length === bodies.length, 20_000);
    assertExactlyOnceInOrder(got, bodies);
    ann.close();
    bob.close();
  } finally {
    await hub.stop();
  }
});

test("an expiring token is renewed through getToken, for the socket and for REST", async () => {
  const hub = await Hub.start();
  try {
    await hub.token("ann");
    let calls = 0;
    // Tokens that live one second: each use after that needs a new one (the SDK renews a
    // token 60 s before its expiry by default).
    const getToken = async () => {
      calls += 1;
      return (await hub.token("ann", { ttl_secs: 1 })).token;
    };
    // A token the hub refuses (signed with another secret).
    const good = (await hub.token("ann")).token;
    const [h, p] = good.split(".");
    const expired = `${h}.${p}.${"A".repeat(43)}`;
    // A fixed refused token: nothing to renew it with.
    const fixed = new HubClient({ url: hub.url, token: expired, ...FAST });
    await until("refused", () => fixed.state.get() === "unauthorized");
    fixed.close();
    // A first token that is refused, then fresh ones: refused once, renewed, connected.
    let first = true;
    const c = new HubClient({
      url: hub.url,
      getToken: async () => {
        if (first) {
          first = false;
          return expired;
        }
        return getToken();
      },
      ...FAST,
    });
    await until("connected with a renewed token", () => c.state.get() === "connected");
    assert.ok(calls >= 1);
    // REST: the cached token is about to expire: it is renewed before the call.
    await new Promise((r) => setTimeout(r, 1500));
    const before = calls;
    const me = await c.rest.getMe();
    assert.equal(me.user.id, "ann");
    assert.ok(calls > before);
    // A dropped connection reconnects with a renewed token.
    c.socket.io.engine.close();
    await until("reconnected", () => c.state.get() === "connected" && calls > before + 1);
    c.close();
  } finally {
    await hub.stop();
  }
});

test("more missed than a join returns: the rest is paged, still exactly once and in order", async () => {
  const hub = await Hub.start();
  try {
    const { c: ann, room } = await client(hub, "ann");
    const { c: bob } = await client(hub, "bob");
    const annRoom = await ann.rooms.join(room);
    const bobRoom = await bob.rooms.join(room);
    const got = [];
    bobRoom.chat.on("message", (m) => got.push(m));
    await annRoom.chat.send("before");
    await until("bob has the first", () => got.length === 1);
    // Bob goes away; 600 messages are said (more than MISSED_LIMIT, 500); bob comes back.
    bob.socket.disconnect();
    await until("bob away", () => !annRoom.presence.get().some((p) => p.user_id === "bob"));
    const bodies = Array.from({ length: 600 }, (_, i) => `n${i}`);
    await Promise.all(bodies.map((b) => annRoom.chat.send(b)));
    bob.connect();
    await until("bob has them all", () => got.length === 601, 20_000);
    assertExactlyOnceInOrder(got, ["before", ...bodies]);
    assert.equal(bobRoom.chat.lastSeq, got.at(-1).seq);
    ann.close();
    bob.close();
  } finally {
    await hub.stop();
  }
});

test("a connection over the hub's per-user limit is reported as rate_limited and retried", async () => {
  const hub = await Hub.start({ HUB_MAX_CONNS_PER_USER: "2" });
  try {
    const first = await client(hub, "ann");
    const second = await client(hub, "ann");
    const token = (await hub.token("ann")).token;
    const third = new HubClient({ url: hub.url, token, autoConnect: false, ...FAST });
    const error = new Promise((resolve) => {
      const off = third.on("error", (e) => {
        off();
        resolve(e);
      });
    });
    third.connect();
    const refused = await error;
    assert.equal(refused.code, "rate_limited");
    assert.match(refused.message, /holds 2 connections/);
    assert.notEqual(third.state.get(), "connected");
    // One closes: the third gets in on a retry.
    first.c.close();
    await until("the third connected", () => third.state.get() === "connected");
    second.c.close();
    third.close();
  } finally {
    await hub.stop();
  }
});
