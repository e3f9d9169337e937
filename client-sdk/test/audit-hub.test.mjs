// The audit log of a real hub, checked with the SDK alone: the checkpoint opens with the
// published key on WebCrypto's Ed25519, inclusion proofs of its entries and a consistency proof
// to the next checkpoint verify against the roots the client keeps; a changed note, a key of
// another log and a changed proof are refused.
import assert from "node:assert/strict";
import { test } from "node:test";
import { RestClient, Tokens, leafHash, openCheckpoint, verifyConsistency, verifyInclusion } from "../dist/index.js";
import { Hub } from "./hub.mjs";

test("a client that trusts only the key and its last root checks the hub's audit log", async () => {
  const hub = await Hub.start();
  try {
    const ops = await hub.token("ops", { role: "admin" });
    const api = new RestClient({ url: hub.url, tokens: new Tokens(() => ops.token, 0) });
    const anyone = new RestClient({ url: hub.url });
    for (const name of ["Acme", "Beta", "Gamma"]) await api.createVenture({ body: { name } });
    const first = await api.runJob({ name: "audit-checkpoint" });
    assert.equal(first.result, "ok", JSON.stringify(first));

    const key = await anyone.auditKey();
    const note = new TextDecoder().decode(await anyone.auditCheckpoint());
    const cp = await openCheckpoint(note, key.vkey);
    assert.equal(cp.origin, key.origin);
    assert.equal(cp.size, first.output.size);
    assert.ok(cp.size >= 3);

    // Every leaf is in the tree the checkpoint signed.
    const page = await api.auditEntries({ from: 0, limit: cp.size });
    assert.equal(page.entries.length, cp.size);
    for (const entry of page.entries) {
      const leaf = await leafHash(new TextEncoder().encode(entry.leaf));
      assert.equal(Buffer.from(leaf).toString("base64"), entry.leaf_hash);
      const p = await api.auditInclusionProof({ index: entry.index, size: cp.size });
      assert.equal(await verifyInclusion({ leaf, index: entry.index, size: cp.size, proof: p.proof, root: cp.root }), true);
      if (p.proof.length > 0) {
        const changed = [...p.proof];
        changed[0] = Buffer.from(new Uint8Array(32)).toString("base64");
        assert.equal(await verifyInclusion({ leaf, index: entry.index, size: cp.size, proof: changed, root: cp.root }), false);
      }
    }

    // The log grows; the next checkpoint is consistent with the root kept from the first.
    await api.createVenture({ body: { name: "Delta" } });
    await api.runJob({ name: "audit-checkpoint" });
    const next = await openCheckpoint(new TextDecoder().decode(await anyone.auditCheckpoint()), key.vkey);
    assert.ok(next.size > cp.size);
    const c = await api.auditConsistencyProof({ from: cp.size, to: next.size });
    assert.equal(await verifyConsistency({ from: cp.size, to: next.size, oldRoot: cp.root, newRoot: next.root, proof: c.proof }), true);
    assert.equal(await verifyConsistency({ from: cp.size, to: next.size, oldRoot: next.root, newRoot: next.root, proof: c.proof }), false);

    // Refused: a changed size, a key of another log, a note without a signature.
    await assert.rejects(openCheckpoint(note.replace(`\n${cp.size}\n`, `\n${cp.size + 1}\n`), key.vkey), /verifies/);
    // The key material is base64, which may hold '+' itself.
    const [name, , ...rest] = key.vkey.split("+");
    const material = rest.join("+");
    const other = material.replace(/^(.{10})./, (_, head) => head + (material[10] === "A" ? "B" : "A"));
    await assert.rejects(openCheckpoint(note, `${name}+00000000+${other}`), /hash/);
    await assert.rejects(openCheckpoint(note.slice(0, note.indexOf("\n\n") + 1), key.vkey), /signed note/);
    // Entries and proofs are for operators.
    const alice = await hub.token("alice");
    const user = new RestClient({ url: hub.url, tokens: new Tokens(() => alice.token, 0) });
    await assert.rejects(user.auditEntries({ from: 0, limit: 1 }), (e) => e.code === "forbidden");
  } finally {
    await hub.stop();
  }
});
