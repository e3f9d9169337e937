// Interop checks with the stock socket.io-client, run by tests/socketio_interop.rs against a
// live hub. Environment: HUB_URL, HUB_TOKEN. Exits non-zero when any check fails.
import { io } from "socket.io-client";
import assert from "node:assert/strict";

const url = process.env.HUB_URL;
const token = process.env.HUB_TOKEN;
const WAIT_MS = 10_000;

function once(emitter, event) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${event}`)), WAIT_MS);
    emitter.once(event, (value) => {
      clearTimeout(timer);
      resolve(value);
    });
  });
}

function client(opts = {}) {
  return io(url, { reconnection: false, timeout: WAIT_MS, ...opts });
}

const checks = {
  async "connects with a token (polling, then upgrade)"() {
    const s = client({ auth: { token } });
    await once(s, "connect");
    assert.ok(s.id);
    if (s.io.engine.transport.name !== "websocket") await once(s.io.engine, "upgrade");
    assert.equal(s.io.engine.transport.name, "websocket");
    s.close();
  },
  async "connects over websocket only and over polling only"() {
    for (const transports of [["websocket"], ["polling"]]) {
      const s = client({ auth: { token }, transports });
      await once(s, "connect");
      const pong = await s.timeout(WAIT_MS).emitWithAck("sys:ping");
      assert.equal(pong.ok, true);
      s.close();
    }
  },
  async "is refused without a token, or with a bad one"() {
    for (const [auth, message] of [
      [{}, "unauthorized: missing token"],
      [{ token: "garbage" }, "unauthorized: invalid token"],
    ]) {
      const s = client({ auth });
      const err = await once(s, "connect_error");
      assert.equal(err.message, message);
      assert.equal(s.connected, false);
      s.close();
    }
  },
  async "emits with an ack"() {
    const s = client({ auth: { token } });
    await once(s, "connect");
    const pong = await s.timeout(WAIT_MS).emitWithAck("sys:ping");
    assert.equal(pong.ok, true);
    assert.ok(Date.parse(pong.time) > 0);
    const err = await s.timeout(WAIT_MS).emitWithAck("no:such:event", {});
    assert.deepEqual(err.error.code, "not_found");
    assert.equal(err.ok, false);
    s.close();
  },
  async "round-trips binary payloads"() {
    const s = client({ auth: { token } });
    await once(s, "connect");
    const bytes = Uint8Array.from([0, 1, 2, 127, 128, 255]);
    const reply = await s.timeout(WAIT_MS).emitWithAck("sys:echo", { data: bytes });
    assert.equal(reply.ok, true);
    assert.equal(reply.size, bytes.length);
    assert.deepEqual(new Uint8Array(reply.data), bytes);
    s.close();
  },
  async "reconnects after the transport drops"() {
    const s = io(url, {
      auth: { token },
      transports: ["websocket"],
      reconnection: true,
      reconnectionDelay: 50,
      reconnectionDelayMax: 100,
    });
    await once(s, "connect");
    const firstId = s.id;
    s.io.engine.close(); // the network goes away under the client
    await once(s, "connect");
    assert.notEqual(s.id, firstId);
    const pong = await s.timeout(WAIT_MS).emitWithAck("sys:ping");
    assert.equal(pong.ok, true);
    s.close();
  },
};

let passed = 0;
let failed = 0;
for (const [name, check] of Object.entries(checks)) {
  try {
    await check();
    passed += 1;
    console.log(`ok - ${name}`);
  } catch (e) {
    failed += 1;
    console.log(`not ok - ${name}: ${e?.stack ?? e}`);
  }
}
console.log(`interop: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
