// Makes P-256 key pairs with WebCrypto, as a browser would (or imports them), and signs
// messages with them.
// In: KEYS (how many key pairs to make), or PRIVATE (a JSON array of private JWKs made by an
// earlier run); MESSAGES (a JSON array of strings).
// Out (stdout, one JSON line): {keys: [{jwk, spki_pem, private}], signatures: [[base64url, ...], ...]}
// where signatures[k][m] is key k's ECDSA-SHA256 signature of message m, raw r||s.
const { subtle } = globalThis.crypto;

const b64url = (buf) => Buffer.from(buf).toString("base64url");
const pem = (der) =>
  `-----BEGIN PUBLIC KEY-----\n${Buffer.from(der).toString("base64").match(/.{1,64}/g).join("\n")}\n-----END PUBLIC KEY-----\n`;
const alg = { name: "ECDSA", namedCurve: "P-256" };

async function pairs() {
  if (process.env.PRIVATE) {
    const out = [];
    for (const jwk of JSON.parse(process.env.PRIVATE)) {
      const { d, ...pub } = jwk;
      out.push({
        privateKey: await subtle.importKey("jwk", jwk, alg, true, ["sign"]),
        publicKey: await subtle.importKey("jwk", { ...pub, key_ops: ["verify"] }, alg, true, ["verify"]),
      });
    }
    return out;
  }
  const out = [];
  for (let k = 0; k < Number(process.env.KEYS ?? 1); k++) {
    out.push(await subtle.generateKey(alg, true, ["sign", "verify"]));
  }
  return out;
}

const messages = JSON.parse(process.env.MESSAGES ?? "[]");
const out = { keys: [], signatures: [] };
for (const pair of await pairs()) {
  const { kty, crv, x, y } = await subtle.exportKey("jwk", pair.publicKey);
  const { d } = await subtle.exportKey("jwk", pair.privateKey);
  out.keys.push({
    jwk: { kty, crv, x, y },
    spki_pem: pem(await subtle.exportKey("spki", pair.publicKey)),
    private: { kty, crv, x, y, d },
  });
  const sigs = [];
  for (const m of messages) {
    const sig = await subtle.sign({ name: "ECDSA", hash: "SHA-256" }, pair.privateKey, new TextEncoder().encode(m));
    sigs.push(b64url(sig));
  }
  out.signatures.push(sigs);
}
console.log(JSON.stringify(out));
