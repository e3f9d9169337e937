// The webhook verification helper: the Standard Webhooks example, refusals, and a real hub
// delivering to a receiver written with the SDK.
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { test } from "node:test";
import { HubError, HubServer, verifyWebhook } from "../dist/index.js";
import { Hub, until } from "./hub.mjs";

const SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const EXAMPLE = {
  body: '{"test": 2432232314}',
  headers: {
    "webhook-id": "msg_p5jXN8AQM9LWM0D4loKWxJek",
    "webhook-timestamp": "1614265330",
    "webhook-signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
  },
};

test("the specification's example verifies, and any change to it does not", async () => {
  const now = 1614265330;
  assert.deepEqual(await verifyWebhook(SECRET, EXAMPLE.body, EXAMPLE.headers, { now }), { test: 2432232314 });
  // Among several signatures (a rotation), one match is enough.
  const two = { ...EXAMPLE.headers, "webhook-signature": `v1,bm90IGl0 ${EXAMPLE.headers["webhook-signature"]}` };
  assert.ok(await verifyWebhook(SECRET, EXAMPLE.body, new Headers(two), { now }));
  const refusals = [
    [EXAMPLE.body.replace("2432232314", "2432232315"), EXAMPLE.headers, now],
    [EXAMPLE.body, { ...EXAMPLE.headers, "webhook-id": "msg_other" }, now],
    [EXAMPLE.body, EXAMPLE.headers, now + 301],
    [EXAMPLE.body, { ...EXAMPLE.headers, "webhook-signature": undefined }, now],
  ];
  for (const [body, headers, at] of refusals) {
    await assert.rejects(verifyWebhook(SECRET, body, headers, { now: at }), (e) => e instanceof HubError && e.code === "unauthorized");
  }
  await assert.rejects(verifyWebhook("whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", EXAMPLE.body, EXAMPLE.headers, { now }));
});

test("a hub's deliveries verify with verifyWebhook", async () => {
  const hub = await Hub.start({ HUB_WEBHOOK_ALLOW_PRIVATE: "true", HUB_WEBHOOK_POLL: "50ms" });
  const events = [];
  const receiver = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", async () => {
      try {
        events.push({ id: req.headers["webhook-id"], event: await verifyWebhook(SECRET, body, req.headers) });
        res.writeHead(204).end();
      } catch (e) {
        events.push({ error: String(e) });
        res.writeHead(401).end();
      }
    });
  });
  await new Promise((r) => receiver.listen(0, "127.0.0.1", r));
  try {
    const admin = await hub.token("root", { role: "admin" });
    const server = new HubServer({ url: hub.url, apiKey: admin.token });
    const made = await server.rest.createWebhook({
      body: { url: `http://127.0.0.1:${receiver.address().port}/in`, events: ["member.invited", "member.joined"], secret: SECRET },
    });
    assert.equal(made.webhook.events.join(), "member.invited,member.joined");
    // Alice, an ordinary user, invites Bob to her venture.
    const alice = new HubServer({ url: hub.url, apiKey: (await hub.token("alice")).token }).rest;
    const venture = await alice.createVenture({ body: { name: "Hooks" } });
    await alice.putVentureMember({ id: venture.id, body: { user_id: "bob", role: "member" } });
    await until("the invitation delivered", () => events.length >= 2);
    assert.deepEqual(events.map((e) => e.error), [undefined, undefined]);
    // Alice joined her venture as its owner, then invited Bob.
    assert.deepEqual(
      events.map((e) => [e.event.type, e.event.data.user_id]),
      [["member.joined", "alice"], ["member.invited", "bob"]],
    );
    assert.match(events[1].id, /^msg_/);
    // The hub records a try once it has sent what it could: the state follows the receipt.
    const log = await until("the delivery recorded", async () => {
      const l = await server.rest.getDelivery({ id: events[1].id });
      return l.delivery.state === "delivered" && l;
    });
    assert.equal(log.attempts[0].status, 204);
  } finally {
    receiver.close();
    await hub.stop();
  }
});
