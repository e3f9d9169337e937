// Yjs documents through the SDK against a real hub: over doc:msg (many per connection) and
// over /yjs, converging, read-only for viewers, resynced after a reconnect.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import WebSocket from "ws";
import * as Y from "yjs";
import { HubClient } from "../dist/index.js";
import { Hub, until } from "./hub.mjs";

let hub;
before(async () => {
  hub = await Hub.start();
});
after(async () => {
  await hub?.stop();
});

async function client(user, extra = {}) {
  const info = await hub.token(user, extra);
  const c = new HubClient({
    url: hub.url,
    getToken: async () => (await hub.token(user, extra)).token,
    reconnectDelayMs: 100,
    reconnectDelayMaxMs: 500,
  });
  await until(`${user} connected`, () => c.state.get() === "connected");
  return { c, info };
}

const text = (p) => p.doc.getText("body").toString();

test("documents converge over doc:msg, with awareness, and resync after a reconnect", async () => {
  const { c: ann, info } = await client("ann");
  const { c: bob } = await client("bob");
  const a = ann.docs.open(info.doc_id);
  const b = bob.docs.open(info.doc_id);
  await Promise.all([a.whenSynced(), b.whenSynced()]);
  assert.equal(a.canWrite.get(), true);
  a.doc.getText("body").insert(0, "hello ");
  await until("bob sees ann's text", () => text(b) === "hello ");
  b.doc.getText("body").insert(6, "world");
  await until("converged", () => text(a) === "hello world");
  // Awareness crosses.
  a.awareness.setLocalStateField("user", { name: "Ann" });
  await until("bob sees ann's cursor", () =>
    [...b.awareness.getStates().values()].some((s) => s.user?.name === "Ann"),
  );
  // A second document on the same connection.
  const other = await ann.rest.createDoc({ body: { room: `venture:${info.venture_id}`, title: "Second" } });
  const a2 = ann.docs.open(other.id);
  const b2 = bob.docs.open(other.id);
  await Promise.all([a2.whenSynced(), b2.whenSynced()]);
  a2.doc.getText("body").insert(0, "two");
  await until("second doc", () => text(b2) === "two");
  assert.equal(text(b), "hello world");
  // Ann goes offline, edits, comes back: her edits reach bob, and bob's offline-time edits reach her.
  ann.socket.io.engine.close();
  await until("ann offline", () => a.synced.get() === false);
  a.doc.getText("body").insert(0, ">> ");
  b.doc.getText("body").insert(b.doc.getText("body").length, "!");
  await until("resynced", () => a.synced.get() && text(a) === ">> hello world!" && text(b) === ">> hello world!");
  ann.close();
  bob.close();
});

test("a viewer reads but its changes are not sent", async () => {
  const { c: ann, info } = await client("ann5");
  const { c: admin } = await client("root", { role: "admin" });
  await admin.rest.putVentureMember({ id: info.venture_id, body: { user_id: "vic", role: "viewer" } });
  // vic's dev token must not make him a member again (he stays a viewer).
  const { c: vic } = await client("vic");
  const a = ann.docs.open(info.doc_id);
  const v = vic.docs.open(info.doc_id);
  await Promise.all([a.whenSynced(), v.whenSynced()]);
  assert.equal(v.canWrite.get(), false);
  assert.equal(v.role.get(), "viewer");
  a.doc.getText("body").insert(0, "from ann ");
  await until("vic reads", () => text(v).includes("from ann "));
  v.doc.getText("body").insert(0, "vandal ");
  a.doc.getText("body").insert(0, "+");
  await until("vic gets ann's next edit", () => text(v).includes("+"));
  assert.ok(!text(a).includes("vandal"));
  ann.close();
  vic.close();
  admin.close();
});

test("the /yjs provider interoperates with doc:msg", async () => {
  const { c: ann, info } = await client("ann6");
  const { c: bob } = await client("bob6");
  const overSocket = ann.docs.open(info.doc_id);
  const overWs = bob.docs.websocket(info.doc_id, { WebSocket, doc: new Y.Doc() });
  await Promise.all([overSocket.whenSynced(), overWs.whenSynced()]);
  overWs.doc.getText("body").insert(0, "[ws]");
  await until("over the socket", () => text(overSocket).includes("[ws]"));
  overSocket.doc.getText("body").insert(0, "[sio]");
  await until("over the websocket", () => text(overWs).includes("[sio]"));
  assert.equal(text(overWs), text(overSocket));
  overWs.destroy();
  ann.close();
  bob.close();
});
