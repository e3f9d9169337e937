// Hostile y-protocols frames against a live hub, seen by the stock clients (yjs, y-websocket,
// ws), run by tests/hostile.rs. Environment: HUB_URL, DOC, TOKEN_ALICE, TOKEN_BOB (editors).
import * as Y from "yjs";
import { WebsocketProvider } from "y-websocket";
import * as encoding from "lib0/encoding";
import WebSocket from "ws";
import assert from "node:assert/strict";
import { WAIT_MS, until } from "./wait.mjs";

const { HUB_URL: hub, DOC: doc, TOKEN_ALICE, TOKEN_BOB } = process.env;
const wsUrl = hub.replace(/^http/, "ws") + "/yjs";

async function editor(token) {
  const ydoc = new Y.Doc();
  const provider = new WebsocketProvider(wsUrl, doc, ydoc, {
    params: { token },
    WebSocketPolyfill: WebSocket,
    disableBc: true,
  });
  await until("sync", () => provider.synced);
  return { ydoc, provider, text: ydoc.getText("t") };
}

/** A raw socket that sends `frame` once open and resolves with the close code it sees. */
function closeCodeAfter(frame, token) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${wsUrl}/${doc}?token=${token}`);
    ws.binaryType = "arraybuffer";
    ws.on("open", () => ws.send(frame));
    ws.on("close", (code, reason) => resolve({ code, reason: reason.toString() }));
    ws.on("error", reject);
    setTimeout(() => reject(new Error("no close")), WAIT_MS);
  });
}

/** An awareness message whose one state is `state`, verbatim (JSON or not). */
function awarenessFrame(clientId, state) {
  const body = encoding.createEncoder();
  encoding.writeVarUint(body, 1);
  encoding.writeVarUint(body, clientId);
  encoding.writeVarUint(body, 1);
  encoding.writeVarString(body, state);
  const frame = encoding.createEncoder();
  encoding.writeVarUint(frame, 1);
  encoding.writeVarUint8Array(frame, encoding.toUint8Array(body));
  return encoding.toUint8Array(frame);
}

const scenarios = {
  async "awareness that is not JSON closes with 1003, and stock clients never see it"() {
    const seen = await closeCodeAfter(awarenessFrame(4242, "{not json"), TOKEN_BOB);
    assert.equal(seen.code, 1003, `close code ${seen.code} (${seen.reason})`);
    assert.ok(Buffer.byteLength(seen.reason) <= 123);
    // A stock client joining afterwards parses every state it is given.
    const a = await editor(TOKEN_ALICE);
    assert.ok(!a.provider.awareness.getStates().has(4242));
    a.provider.destroy();
  },

  async "an oversize awareness state closes with 1009"() {
    const state = JSON.stringify({ pad: "x".repeat(40_000) });
    const seen = await closeCodeAfter(awarenessFrame(4343, state), TOKEN_BOB);
    assert.equal(seen.code, 1009, `close code ${seen.code} (${seen.reason})`);
  },

  async "an update with extra bytes reaches stock clients as yrs applied it"() {
    const a = await editor(TOKEN_ALICE);
    const b = await editor(TOKEN_BOB);
    const source = new Y.Doc();
    source.getText("t").insert(0, "clean ");
    const update = Y.encodeStateAsUpdate(source);
    const padded = new Uint8Array(update.length + 16);
    padded.set(update);
    padded.fill(0xff, update.length);
    const frame = encoding.createEncoder();
    encoding.writeVarUint(frame, 0);
    encoding.writeVarUint(frame, 2);
    encoding.writeVarUint8Array(frame, padded);
    const raw = new WebSocket(`${wsUrl}/${doc}?token=${TOKEN_BOB}`);
    await new Promise((r, j) => { raw.on("open", r); raw.on("error", j); });
    raw.send(encoding.toUint8Array(frame));
    await until("both stock clients have it", () =>
      a.text.toString().includes("clean") && b.text.toString().includes("clean"));
    a.text.insert(0, "more ");
    await until("they keep converging", () => b.text.toString().startsWith("more "));
    assert.equal(a.text.toString(), b.text.toString());
    assert.ok(a.provider.wsconnected && b.provider.wsconnected);
    raw.close();
    a.provider.destroy();
    b.provider.destroy();
  },
};

let passed = 0;
let failed = 0;
for (const name of Object.keys(scenarios)) {
  try {
    await scenarios[name]();
    passed += 1;
    console.log(`ok - ${name}`);
  } catch (e) {
    failed += 1;
    console.log(`not ok - ${name}: ${e?.stack ?? e}`);
  }
}
console.log(`hostile-yjs: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
