// Checks of the hub's audit log that trust nothing but a root: RFC 6962 Merkle tree hashing and
// the proof checks of RFC 9162 §2.1.3.2 (inclusion) and §2.1.4.2 (consistency), on WebCrypto's
// SHA-256 (browsers and Node ≥ 20). Hashes are bytes or their base64, as the hub serves them.

/** A SHA-256 hash: 32 bytes, or their (standard) base64. */
export type HashLike = Uint8Array | string;

function bytes(h: HashLike): Uint8Array {
  if (typeof h !== "string") return h;
  const raw = atob(h);
  const out = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
  return out;
}

async function sha256(...parts: Uint8Array[]): Promise<Uint8Array> {
  const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.length;
  }
  return new Uint8Array(await globalThis.crypto.subtle.digest("SHA-256", all));
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** `SHA-256(0x00 ‖ leaf)`: the hash of a leaf (the bytes `GET /api/v1/audit/entries/{index}` serves). */
export function leafHash(leaf: Uint8Array): Promise<Uint8Array> {
  return sha256(new Uint8Array([0]), leaf);
}

/** `SHA-256(0x01 ‖ left ‖ right)`: the hash of an inner node. */
export function nodeHash(left: HashLike, right: HashLike): Promise<Uint8Array> {
  return sha256(new Uint8Array([1]), bytes(left), bytes(right));
}

const odd = (n: number) => n % 2 === 1;
const half = (n: number) => Math.floor(n / 2);
const whole = (n: number) => Number.isSafeInteger(n) && n >= 0;

/** Whether `proof` shows the leaf hashed `leaf` at `index` in the tree of `size` whose root is `root`. */
export async function verifyInclusion(args: {
  leaf: HashLike;
  index: number;
  size: number;
  proof: HashLike[];
  root: HashLike;
}): Promise<boolean> {
  const { index, size } = args;
  if (!whole(index) || !whole(size) || index >= size) return false;
  let fn = index;
  let sn = size - 1;
  let r = bytes(args.leaf);
  for (const p of args.proof) {
    if (sn === 0) return false;
    if (odd(fn) || fn === sn) {
      r = await nodeHash(p, r);
      while (!odd(fn) && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      r = await nodeHash(r, p);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 && equal(r, bytes(args.root));
}

/** Whether `proof` shows that the tree of `from` leaves with root `oldRoot` is a prefix of the tree of `to` with root `newRoot`. */
export async function verifyConsistency(args: {
  from: number;
  to: number;
  oldRoot: HashLike;
  newRoot: HashLike;
  proof: HashLike[];
}): Promise<boolean> {
  const { from, to } = args;
  const oldRoot = bytes(args.oldRoot);
  const newRoot = bytes(args.newRoot);
  if (!whole(from) || !whole(to) || from === 0 || from > to) return false;
  if (from === to) return args.proof.length === 0 && equal(oldRoot, newRoot);
  const path = args.proof.map(bytes);
  // A power of two: the old tree is a subtree of the new one, and its root starts the path.
  let power = 1;
  while (power < from) power *= 2;
  if (power === from) path.unshift(oldRoot);
  if (path.length === 0) return false;
  let fn = from - 1;
  let sn = to - 1;
  while (odd(fn)) {
    fn = half(fn);
    sn = half(sn);
  }
  let fr = path[0];
  let sr = path[0];
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (odd(fn) || fn === sn) {
      fr = await nodeHash(c, fr);
      sr = await nodeHash(c, sr);
      while (!odd(fn) && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      sr = await nodeHash(sr, c);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return equal(fr, oldRoot) && equal(sr, newRoot) && sn === 0;
}

/** A checkpoint of the audit log whose signature verified. */
export interface OpenedCheckpoint {
  /** The log's origin (its first line). */
  origin: string;
  /** How many entries the log held. */
  size: number;
  /** The root of their tree. */
  root: Uint8Array;
}

const encoder = new TextEncoder();

/**
 * Opens a checkpoint (`GET /api/v1/audit/checkpoint`: a C2SP `tlog-checkpoint` in a C2SP
 * `signed-note`) with the log's verifier key (`name+hash+base64(0x01 ‖ key)`, as
 * `GET /api/v1/audit/key` serves it, or as its operator publishes it) on WebCrypto's Ed25519.
 * Throws unless a signature line by that key verifies. Keep the key from a source other than
 * the hub you check, and the last checkpoint you opened: a newer one must be consistent with it
 * ({@link verifyConsistency}).
 */
export async function openCheckpoint(note: string, vkey: string): Promise<OpenedCheckpoint> {
  const [name, hashHex, ...rest] = vkey.trim().split("+");
  const key = bytes(rest.join("+"));
  if (!name || !hashHex || key.length !== 33 || key[0] !== 1) throw new Error("not an Ed25519 verifier key");
  const publicKey = key.slice(1);
  const keyHash = (await sha256(encoder.encode(`${name}\n`), key)).slice(0, 4);
  if (Array.from(keyHash, (b) => b.toString(16).padStart(2, "0")).join("") !== hashHex) {
    throw new Error("the verifier key's hash does not match its name and key");
  }
  const split = note.lastIndexOf("\n\n");
  if (split < 0) throw new Error("not a signed note");
  const text = note.slice(0, split + 1);
  const ed25519 = await globalThis.crypto.subtle.importKey("raw", publicKey, { name: "Ed25519" }, false, ["verify"]);
  let verified = false;
  for (const line of note.slice(split + 2).split("\n")) {
    const m = /^\u2014 (\S+) (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const sig = bytes(m[2]);
    if (sig.length !== 68 || !equal(sig.slice(0, 4), keyHash)) continue;
    if (await globalThis.crypto.subtle.verify("Ed25519", ed25519, sig.slice(4), encoder.encode(text))) {
      verified = true;
      break;
    }
  }
  if (!verified) throw new Error(`no signature by ${name} verifies`);
  const [origin, size, root] = text.slice(0, -1).split("\n");
  if (!origin || !/^(0|[1-9][0-9]*)$/.test(size ?? "") || !root) throw new Error("not a checkpoint");
  const rootBytes = bytes(root);
  if (rootBytes.length !== 32) throw new Error("not a checkpoint: the root is not 32 bytes");
  return { origin, size: Number(size), root: rootBytes };
}
