// The server API through the SDK against a real hub: a backend with an API key publishes to a
// room and a user, reads presence and counts, and revokes a user, whose HubClient hears
// `sessionClosed` and comes back with a fresh token.
import assert from "node:assert/strict";
import { test } from "node:test";
import { HubClient, HubServer, HubError } from "../dist/index.js";
import { Hub, until } from "./hub.mjs";

const FAST = { reconnectDelayMs: 100, reconnectDelayMaxMs: 500, ackTimeoutMs: 3000 };

test("a backend publishes, reads presence and revokes through HubServer", async () => {
  const hub = await Hub.start();
  try {
    const admin = await hub.token("root", { role: "admin" });
    const rest = new HubServer({ url: hub.url, apiKey: admin.token }).rest;
    const made = await rest.createApiKey({ body: { name: "backend", scopes: ["publish", "presence", "disconnect"] } });
    assert.match(made.secret, /^hk_/);
    const server = new HubServer({ url: hub.url, apiKey: made.secret });

    const bobToken = await hub.token("bob");
    let issued = 0;
    const getToken = async () => {
      issued += 1;
      return (await hub.token("bob")).token;
    };
    const bob = new HubClient({ url: hub.url, getToken, ...FAST });
    await until("bob connected", () => bob.state.get() === "connected");
    const room = `venture:${bobToken.venture_id}`;
    await bob.rooms.join(room);

    const heard = [];
    bob.socket.on("server:event", (p) => heard.push(p));
    const sent = await server.publish(room, "deal:closed", { amount: 7 }, { store: true });
    assert.equal(sent.seq, 1);
    const toBob = await server.publishToUser("bob", "invoice:due", { id: "i1" });
    await until("both publications", () => heard.length === 2);
    assert.deepEqual(heard, [sent, toBob]);
    const page = await server.publications(room);
    assert.deepEqual(page.publications, [sent]);

    const presence = await server.presence(room);
    assert.deepEqual(presence.presence.map((e) => e.user_id), ["bob"]);
    assert.deepEqual(presence.count, { users: 1, connections: 1 });
    const counts = await server.counts([room, "team:none"]);
    assert.deepEqual(counts.rooms.map((r) => r.count.users), [1, 0]);

    await assert.rejects(server.publish(room, "bad name", 1), (e) => e instanceof HubError && e.code === "invalid");

    const closed = [];
    bob.on("sessionClosed", (c) => closed.push(c));
    const before = issued;
    // The dev token route issues a token with `iat` in whole seconds: the fresh one must come
    // from a later second than the revocation.
    await server.revoke("bob", "password changed");
    await until("bob told", () => closed.length === 1);
    assert.deepEqual(closed[0], { code: "revoked", reason: "password changed" });
    await until("bob back with a fresh token", () => bob.state.get() === "connected" && issued > before, 15_000);
    bob.close();
  } finally {
    await hub.stop();
  }
});
