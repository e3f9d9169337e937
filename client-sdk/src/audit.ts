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
