// Rooms, presence, typing and chat through the SDK against a real hub.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { HubClient, HubError } from "../dist/index.js";
import { Hub, until } from "./hub.mjs";

let hub;
before(async () => {
  hub = await Hub.start();
});
after(async () => {
  await hub?.stop();
});

async function client(user, options = {}) {
  const t = await hub.token(user);
  const c = new HubClient({ url: hub.url, getToken: async () => (await hub.token(user)).token, ...options });
  await until(`${user} connected`, () => c.state.get() === "connected");
  return { c, room: `venture:${t.venture_id}`, info: t };
}

test("presence and typing are stores that follow the room", async () => {
  const { c: ann, room } = await client("ann");
  const { c: bob } = await client("bob");
  const annRoom = await ann.rooms.join(room);
  const bobRoom = await bob.rooms.join(room);
  await until("ann sees bob", () => annRoom.presence.get().some((p) => p.user_id === "bob"));
  assert.deepEqual(
    bobRoom.presence.get().map((p) => p.user_id).sort(),
    ["ann", "bob"],
  );
  const seen = [];
  const off = annRoom.typing.users.subscribe((u) => seen.push([...u]));
  bobRoom.typing.start();
  bobRoom.typing.start(); // throttled: one typing:start
  await until("ann sees bob typing", () => annRoom.typing.others().includes("bob"));
  bobRoom.typing.stop();
  await until("bob stopped", () => !annRoom.typing.users.get().includes("bob"));
  off();
  assert.deepEqual(seen.at(-1), []);
  assert.ok(seen.some((u) => u.includes("bob")));
  await bob.setPresence("busy", { note: "focus" });
  await until("ann sees bob busy", () => annRoom.presence.get().find((p) => p.user_id === "bob")?.status === "busy");
  await bobRoom.leave();
  await until("bob left ann's store", () => !annRoom.presence.get().some((p) => p.user_id === "bob"));
  ann.close();
  bob.close();
});

test("an optimistic send shows at once, is confirmed once, and counts as unread for others", async () => {
  const { c: ann, room } = await client("ann2");
  const { c: bob } = await client("bob2");
  const annRoom = await ann.rooms.join(room);
  const bobRoom = await bob.rooms.join(room);
  const got = [];
  bobRoom.chat.on("message", (m) => got.push(m));
  const unreadBefore = bobRoom.chat.unread.get();
  const sent = annRoom.chat.send("hello @bob2");
  const shown = annRoom.chat.messages.get().at(-1);
  assert.equal(shown.pending, true);
  assert.equal(shown.body, "hello @bob2");
  assert.equal(shown.seq, 0);
  const message = await sent;
  assert.ok(message.seq > 0);
  await until("bob got it", () => got.length === 1);
  assert.equal(got[0].id, message.id);
  await until("ann's copy confirmed", () => annRoom.chat.messages.get().at(-1).seq === message.seq);
  assert.equal(annRoom.chat.messages.get().filter((m) => m.client_id === message.client_id).length, 1);
  assert.equal(bobRoom.chat.unread.get(), unreadBefore + 1);
  // The mention reaches bob's notifications and the room's mention count.
  await bob.notifications.load();
  await until("bob's mention", () => bobRoom.chat.mentions.get() === 1);
  await bobRoom.chat.markRead();
  assert.equal(bobRoom.chat.unread.get(), 0);
  await until("mention read", () => bobRoom.chat.mentions.get() === 0);
  // Edit, react, reply, thread.
  await annRoom.chat.edit(message.id, "hello again");
  await until("bob sees the edit", () => bobRoom.chat.messages.get().find((m) => m.id === message.id)?.body === "hello again");
  await bobRoom.chat.react(message.id, "👍");
  await until("ann sees the reaction", () =>
    annRoom.chat.messages.get().find((m) => m.id === message.id)?.reactions["👍"]?.includes("bob2"),
  );
  const reply = await bobRoom.chat.send("a reply", { replyTo: message.id });
  const thread = await annRoom.chat.thread(message.id);
  assert.equal(thread.root.id, message.id);
  assert.deepEqual(thread.messages.map((m) => m.id), [reply.id]);
  // A refused message fails for good and stays visible as failed.
  await assert.rejects(annRoom.chat.send(""), (e) => e instanceof HubError && e.code === "invalid");
  const failed = annRoom.chat.messages.get().at(-1);
  assert.ok(failed.failed instanceof HubError);
  annRoom.chat.discard(failed.client_id);
  assert.ok(!annRoom.chat.messages.get().some((m) => m.failed));
  ann.close();
  bob.close();
});

test("history pages older messages into the store", async () => {
  const { c: ann, room } = await client("ann3");
  const annRoom = await ann.rooms.join(room);
  for (let i = 0; i < 30; i++) await annRoom.chat.send(`old ${i}`);
  const { c: bob } = await client("bob3");
  const bobRoom = await bob.rooms.join(room, { history: 10 });
  assert.equal(bobRoom.chat.messages.get().length, 10);
  assert.equal(bobRoom.chat.hasMore.get(), true);
  while (await bobRoom.chat.history(10));
  const seqs = bobRoom.chat.messages.get().map((m) => m.seq);
  assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b));
  assert.equal(new Set(seqs).size, seqs.length);
  assert.equal(seqs[0], 1);
  assert.equal(seqs.at(-1), annRoom.chat.lastSeq);
  ann.close();
  bob.close();
});

test("the REST client is typed and throws the hub's error", async () => {
  const { c: ann, info } = await client("ann4");
  const me = await ann.rest.getMe();
  assert.equal(me.user.id, "ann4");
  const venture = await ann.rest.getVenture({ id: info.venture_id });
  assert.ok(venture.members.some((m) => m.user_id === "ann4"));
  const created = await ann.rest.createVenture({ body: { name: "Side project", description: null } });
  assert.equal(created.role, "owner");
  const docs = await ann.rest.listDocs({ room: `venture:${info.venture_id}` });
  assert.equal(docs.docs[0].id, info.doc_id);
  await assert.rejects(ann.rest.getVenture({ id: "nope" }), (e) => e instanceof HubError && e.status === 404 && e.code === "not_found");
  await assert.rejects(ann.rest.createVenture({ body: { name: "", description: null } }), (e) => e.code === "invalid");
  const feed = ann.activity(created.id);
  await feed.load();
  assert.ok(Array.isArray(feed.items.get()));
  ann.close();
});
