// Checks the hub's audit log with code the hub did not write: the checkpoint's Ed25519
// signature with Node's crypto.verify and the published key, the tree's root and the RFC 6962
// inclusion and consistency proofs with @transmute/rfc9162.
// In: HUB (base URL), TOKEN (an admin's token, for entries and proofs).
// Out (stdout, one JSON line): what held, and what a tampered proof or note did.
import { createHash, createPublicKey, verify } from "node:crypto";
import rfc9162 from "@transmute/rfc9162";

const { RFC9162 } = rfc9162;

const hub = process.env.HUB;
const auth = { authorization: `Bearer ${process.env.TOKEN}` };

async function get(path, headers = {}) {
  const res = await fetch(`${hub}${path}`, { headers });
  if (!res.ok) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`);
  return res;
}

const b64 = (s) => new Uint8Array(Buffer.from(s, "base64"));
const same = (a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0;

// The signed note: the checkpoint body, a blank line, "— <name> <base64(key hash ‖ sig)>".
const key = await (await get("/api/v1/audit/key")).json();
const note = await (await get("/api/v1/audit/checkpoint")).text();
const split = note.indexOf("\n\n");
const body = note.slice(0, split + 1);
const sigLine = note.slice(split + 2).trimEnd().split("\n")[0];
const [dash, name, sigB64] = sigLine.split(" ");
const sig = Buffer.from(sigB64, "base64");
const pub = Buffer.from(key.public_key, "base64");
const publicKey = createPublicKey({
  key: { kty: "OKP", crv: "Ed25519", x: pub.toString("base64url") },
  format: "jwk",
});
const keyHash = createHash("sha256")
  .update(Buffer.concat([Buffer.from(`${name}\n`), Buffer.from([1]), pub]))
  .digest()
  .subarray(0, 4);
const signatureOk =
  dash === "\u2014" &&
  same(sig.subarray(0, 4), keyHash) &&
  verify(null, Buffer.from(body), publicKey, sig.subarray(4));
const forged = Buffer.from(body.replace(/\n(\d+)\n/, (_, n) => `\n${Number(n) + 1}\n`));
const forgedRejected = !verify(null, forged, publicKey, sig.subarray(4));

const [origin, sizeLine, rootB64] = body.trimEnd().split("\n");
const size = Number(sizeLine);
const root = b64(rootB64);

// Every leaf, as the log publishes it, through the library's own MTH.
const leaves = [];
while (leaves.length < size) {
  const page = await (
    await get(`/api/v1/audit/entries?from=${leaves.length}&limit=${Math.min(1000, size - leaves.length)}`, auth)
  ).json();
  for (const e of page.entries) leaves.push(new TextEncoder().encode(e.leaf));
  if (page.entries.length === 0) break;
}
const rootOk = same(await RFC9162.treeHead(leaves), root);

// Inclusion proofs of a spread of leaves.
const picks = [...new Set([0, 1, Math.floor(size / 3), Math.floor(size / 2), size - 2, size - 1])].filter(
  (i) => i >= 0 && i < size,
);
let inclusion = 0;
let inclusionTamperedRejected = 0;
for (const i of picks) {
  const p = await (await get(`/api/v1/audit/proof/inclusion?index=${i}&size=${size}`, auth)).json();
  const path = p.proof.map(b64);
  const leaf = await RFC9162.leaf(leaves[i]);
  const proof = { tree_size: size, leaf_index: i, inclusion_path: path };
  if (same(leaf, b64(p.leaf_hash)) && (await RFC9162.verifyInclusionProof(root, leaf, proof))) inclusion++;
  if (path.length > 0) {
    const bad = path.map((h) => new Uint8Array(h));
    bad[0][0] ^= 1;
    if (!(await RFC9162.verifyInclusionProof(root, leaf, { ...proof, inclusion_path: bad }))) {
      inclusionTamperedRejected++;
    }
  }
}

// Consistency proofs from a spread of older sizes; the old roots come from the library too.
// RFC 9162 §2.1.4.2 step 2 (the old root first when the old size is a power of two) is the
// verifier's to do; this library leaves it to its caller.
const olds = [...new Set([1, 2, 3, Math.floor(size / 2), size - 1])].filter((m) => m >= 1 && m < size);
let consistency = 0;
let consistencyTamperedRejected = 0;
for (const m of olds) {
  const p = await (await get(`/api/v1/audit/proof/consistency?from=${m}&to=${size}`, auth)).json();
  const oldRoot = await RFC9162.treeHead(leaves.slice(0, m));
  let path = p.proof.map(b64);
  if ((m & (m - 1)) === 0) path = [oldRoot, ...path];
  const proof = { log_id: origin, tree_size_1: m, tree_size_2: size, consistency_path: path };
  if (same(oldRoot, b64(p.from_root)) && (await RFC9162.verifyConsistencyProof(oldRoot, root, proof))) consistency++;
  const bad = path.map((h) => new Uint8Array(h));
  bad[bad.length - 1][5] ^= 1;
  if (!(await RFC9162.verifyConsistencyProof(oldRoot, root, { ...proof, consistency_path: bad }))) {
    consistencyTamperedRejected++;
  }
}

console.log(
  JSON.stringify({
    origin,
    size,
    signatureOk,
    forgedRejected,
    rootOk,
    inclusion,
    inclusionChecked: picks.length,
    inclusionTamperedRejected,
    consistency,
    consistencyChecked: olds.length,
    consistencyTamperedRejected,
  }),
);
