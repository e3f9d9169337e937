// Unit tests of the SDK's logic without a hub: the chat's ordering (reordered, duplicated and
// missing messages), tokens, stores and the REST client's requests and errors.
import assert from "node:assert/strict";
import { test } from "node:test";
import { HubClient, HubError, RestClient, Store, Tokens, tokenExpiry } from "../dist/index.js";

function jwt(claims) {
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString("base64url");
  return `${b64({ alg: "HS256", typ: "JWT" })}.${b64(claims)}.signature`;
}

const message = (seq, extra = {}) => ({
  id: `m${seq}`,
  room: "venture:v",
  seq,
  author_id: "other",
  client_id: `c${seq}`,
  body: `body ${seq}`,
  reply_to: null,
  created_at: "2026-12-01T00:00:00.000Z",
  edited_at: null,
  deleted: false,
  reactions: {},
  ...extra,
});

/** A client whose socket is "connected" and whose acks come from `answer(event, payload)`. */
function offlineClient(answer) {
  const client = new HubClient({ url: "http://127.0.0.1:9", token: jwt({ sub: "me", exp: 4_000_000_000 }), autoConnect: false });
  Object.defineProperty(client.socket, "connected", { get: () => true });
  client.userId.set("me");
  const asked = [];
  client.request = async (event, payload) => {
    asked.push([event, payload]);
    return { ok: true, ...(await answer(event, payload)) };
  };
  return { client, asked };
}

const joined = (last_seq) => ({ room: "venture:v", role: "member", presence: [], typing: [], last_seq, unread: 0 });

test("chat: a reordered message waits for its predecessor; a duplicate is dropped", async () => {
  const { client } = offlineClient((event) => (event === "room:join" ? joined(0) : { messages: [], has_more: false }));
  const room = await client.rooms.join("venture:v", { history: 0 });
  const got = [];
  room.chat.on("message", (m) => got.push(m.seq));
  room.chat.received(message(2));
  assert.deepEqual(got, []);
  room.chat.received(message(1));
  assert.deepEqual(got, [1, 2]);
  room.chat.received(message(1));
  room.chat.received(message(2));
  assert.deepEqual(got, [1, 2]);
  assert.deepEqual(room.chat.messages.get().map((m) => m.seq), [1, 2]);
  assert.equal(room.chat.unread.get(), 2);
  room.chat.close();
});

test("chat: a gap that no live message fills is paged with chat:history after it", async () => {
  const stored = [1, 2, 3, 4, 5].map((s) => message(s));
  const { client, asked } = offlineClient((event, p) => {
    if (event === "room:join") return joined(2);
    if (event === "chat:history") return { messages: stored.filter((m) => m.seq > p.after).slice(0, p.limit), has_more: false };
    throw new Error(event);
  });
  const room = await client.rooms.join("venture:v", { history: 0 });
  assert.equal(room.chat.lastSeq, 2);
  const got = [];
  room.chat.on("message", (m) => got.push(m.seq));
  room.chat.received(message(5));
  await new Promise((r) => setTimeout(r, 500));
  assert.deepEqual(got, [3, 4, 5]);
  const pages = asked.filter(([e]) => e === "chat:history");
  assert.deepEqual(pages[0][1], { room: "venture:v", after: 2, limit: 100 });
  room.chat.close();
});

test("chat: a rejoin with since delivers the missed messages once, then pages when not recovered", async () => {
  let joins = 0;
  const stored = Array.from({ length: 8 }, (_, i) => message(i + 1));
  const { client } = offlineClient((event, p) => {
    if (event === "room:join") {
      joins += 1;
      if (joins === 1) return joined(3);
      // Two missed of five, and not recovered: the rest must be paged.
      return { ...joined(8), missed: stored.slice(3, 5), recovered: false };
    }
    if (event === "chat:history") return { messages: stored.filter((m) => m.seq > p.after).slice(0, 2), has_more: stored.at(-1).seq > p.after + 2 };
    throw new Error(event);
  });
  const room = await client.rooms.join("venture:v", { history: 0 });
  const got = [];
  room.chat.on("message", (m) => got.push(m.seq));
  room.suspend();
  room.rejoin();
  await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(got, [4, 5, 6, 7, 8]);
  room.chat.close();
});

test("chat: a send is pending at once and retried with the same client_id after a lost ack", async () => {
  let sends = [];
  const { client } = offlineClient((event, p) => {
    if (event === "room:join") return joined(0);
    if (event === "chat:send") {
      sends.push(p.client_id);
      if (sends.length === 1) throw new HubError({ code: "unavailable", message: "lost" });
      return { message: message(1, { author_id: "me", client_id: p.client_id, body: p.body }) };
    }
    return { messages: [], has_more: false };
  });
  const room = await client.rooms.join("venture:v", { history: 0 });
  const sent = room.chat.send("hi");
  assert.equal(room.chat.messages.get()[0].pending, true);
  const m = await sent;
  assert.equal(m.seq, 1);
  assert.equal(sends.length, 2);
  assert.equal(sends[0], sends[1]);
  assert.deepEqual(room.chat.messages.get().map((x) => [x.seq, !!x.pending]), [[1, false]]);
  // My own message is not unread.
  assert.equal(room.chat.unread.get(), 0);
  room.chat.close();
});

test("tokens: expiry is read from the JWT, a token is reused until near it, one fetch at a time", async () => {
  assert.equal(tokenExpiry(jwt({ exp: 1000 })), 1_000_000);
  assert.equal(tokenExpiry("not a jwt"), undefined);
  assert.equal(tokenExpiry(jwt({ sub: "x" })), undefined);
  let fetched = 0;
  let exp = Math.floor(Date.now() / 1000) + 3600;
  const tokens = new Tokens(async () => {
    fetched += 1;
    await new Promise((r) => setTimeout(r, 10));
    return jwt({ exp });
  }, 60_000);
  const [a, b] = await Promise.all([tokens.get(), tokens.get()]);
  assert.equal(a, b);
  assert.equal(fetched, 1);
  await tokens.get();
  assert.equal(fetched, 1);
  await tokens.get(true);
  assert.equal(fetched, 2);
  // Within a minute of its expiry: renewed.
  exp = Math.floor(Date.now() / 1000) + 30;
  await tokens.get(true);
  await tokens.get();
  assert.equal(fetched, 4);
  assert.equal(new Tokens("fixed", 0).renewable, false);
});

test("stores: subscribe runs at once and after each change until unsubscribed", () => {
  const s = new Store(1);
  const seen = [];
  const off = s.subscribe((v) => seen.push(v));
  s.set(2);
  s.update((v) => v + 1);
  off();
  s.set(9);
  assert.deepEqual(seen, [1, 2, 3]);
  assert.equal(s.get(), 9);
});

test("REST: paths, queries and bodies are built from the operation table; errors carry the hub's code", async () => {
  const calls = [];
  let token = 0;
  const tokens = new Tokens(async () => `t${++token}`, 0);
  const fetch = async (url, init) => {
    calls.push({ url, method: init.method, auth: init.headers.authorization, body: init.body });
    if (url.endsWith("/api/v1/me") && init.headers.authorization === "Bearer t1") {
      return new Response(JSON.stringify({ error: { code: "unauthorized", message: "token expired" } }), { status: 401 });
    }
    if (url.includes("/ventures/a%2Fb")) {
      return new Response(JSON.stringify({ error: { code: "not_found", message: "no such venture" } }), { status: 404 });
    }
    if (init.method === "DELETE") return new Response(null, { status: 204 });
    return new Response(JSON.stringify({ ok: 1 }), { status: 200, headers: { "content-type": "application/json" } });
  };
  const rest = new RestClient({ url: "http://hub/", tokens, fetch });
  assert.deepEqual(await rest.getMe(), { ok: 1 });
  assert.deepEqual(calls.map((c) => c.auth), ["Bearer t1", "Bearer t2"]);
  await rest.listNotifications({ unread: true, limit: 5 });
  assert.equal(calls.at(-1).url, "http://hub/api/v1/notifications?unread=true&limit=5");
  await rest.createVenture({ body: { name: "A", description: null } });
  assert.equal(calls.at(-1).method, "POST");
  assert.equal(calls.at(-1).body, '{"name":"A","description":null}');
  assert.equal(await rest.removeVentureMember({ id: "v", user: "u" }), undefined);
  assert.equal(calls.at(-1).url, "http://hub/api/v1/ventures/v/members/u");
  await assert.rejects(rest.getVenture({ id: "a/b" }), (e) => e instanceof HubError && e.status === 404 && e.code === "not_found" && e.message === "no such venture");
  await assert.rejects(rest.getVenture({ id: "" }), (e) => e.code === "invalid");
  // Public routes go without a token.
  await rest.health();
  assert.equal(calls.at(-1).auth, undefined);
});
