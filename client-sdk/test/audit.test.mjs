// The audit log's proof checks against certificate-transparency's RFC 6962 test vectors: the
// tree of 8 leaves, its roots, inclusion and consistency proofs; and refusals of anything changed.
import assert from "node:assert/strict";
import { test } from "node:test";
import { leafHash, nodeHash, verifyConsistency, verifyInclusion } from "../dist/index.js";

const hex = (s) => Uint8Array.from(Buffer.from(s, "hex"));
const leaves = [[], [0x00], [0x10], [0x20, 0x21], [0x30, 0x31], [0x40, 0x41, 0x42, 0x43],
  [0x50, 0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57],
  [0x60, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x6b, 0x6c, 0x6d, 0x6e, 0x6f]].map((l) => Uint8Array.from(l));
const roots = [
  "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
  "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
  "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
  "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
  "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
  "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
  "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
  "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
].map(hex);

test("hashes are RFC 6962's", async () => {
  assert.deepEqual(await leafHash(leaves[0]), roots[0]);
  assert.deepEqual(await nodeHash(await leafHash(leaves[0]), await leafHash(leaves[1])), roots[1]);
});

test("inclusion proofs of the test tree verify, and changed ones do not", async () => {
  for (const [index, size, proof] of [
    [0, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7", "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e", "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]],
    [5, 8, ["bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b", "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0", "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]],
    [2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]],
    [1, 5, ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d", "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e", "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]],
  ]) {
    const leaf = await leafHash(leaves[index]);
    const root = roots[size - 1];
    const hashes = proof.map(hex);
    assert.equal(await verifyInclusion({ leaf, index, size, proof: hashes, root }), true, `${index} in ${size}`);
    // The same as base64, as the hub serves it.
    const b64 = proof.map((h) => Buffer.from(h, "hex").toString("base64"));
    assert.equal(await verifyInclusion({ leaf, index, size, proof: b64, root: Buffer.from(root).toString("base64") }), true);
    assert.equal(await verifyInclusion({ leaf, index: (index + 1) % size, size, proof: hashes, root }), false);
    assert.equal(await verifyInclusion({ leaf, index, size, proof: hashes.slice(1), root }), false);
    const changed = hashes.map((h) => h.slice());
    changed[0][0] ^= 1;
    assert.equal(await verifyInclusion({ leaf, index, size, proof: changed, root }), false);
  }
  assert.equal(await verifyInclusion({ leaf: roots[0], index: 3, size: 3, proof: [], root: roots[0] }), false);
});

test("consistency proofs of the test tree verify, and a fork does not", async () => {
  for (const [from, to, proof] of [
    [1, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7", "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e", "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]],
    [6, 8, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a", "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0", "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]],
    [2, 5, ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e", "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]],
    [4, 7, ["837dbb152e9b079010717e84e865da4ebc0fa198a806d59d31bf15accef22d0e"]],
  ]) {
    const hashes = proof.map(hex);
    const [oldRoot, newRoot] = [roots[from - 1], roots[to - 1]];
    assert.equal(await verifyConsistency({ from, to, oldRoot, newRoot, proof: hashes }), true, `${from} to ${to}`);
    const forked = oldRoot.slice();
    forked[31] ^= 1;
    assert.equal(await verifyConsistency({ from, to, oldRoot: forked, newRoot, proof: hashes }), false);
    assert.equal(await verifyConsistency({ from, to, oldRoot, newRoot: roots[0], proof: hashes }), false);
  }
  assert.equal(await verifyConsistency({ from: 8, to: 8, oldRoot: roots[7], newRoot: roots[7], proof: [] }), true);
  assert.equal(await verifyConsistency({ from: 0, to: 8, oldRoot: roots[7], newRoot: roots[7], proof: [] }), false);
  assert.equal(await verifyConsistency({ from: 9, to: 8, oldRoot: roots[7], newRoot: roots[7], proof: [] }), false);
});
