// Makes P-256 key pairs with WebCrypto, as a browser would, and signs messages with them.
// In: KEYS (how many key pairs), MESSAGES (a JSON array of strings).
// Out (stdout, one JSON line): {keys: [{jwk, spki_pem}], signatures: [[base64url, ...], ...]}
// where signatures[k][m] is key k's ECDSA-SHA256 signature of message m, raw r||s.
const { subtle } = globalThis.crypto;

const b64url = (buf) => Buffer.from(buf).toString("base64url");
const pem = (der) =>
  `-----BEGIN PUBLIC KEY-----\n${Buffer.from(der).toString("base64").match(/.{1,64}/g).join("\n")}\n-----END PUBLIC KEY-----\n`;

const messages = JSON.parse(process.env.MESSAGES ?? "[]");
const out = { keys: [], signatures: [] };
for (let k = 0; k < Number(process.env.KEYS ?? 1); k++) {
  const pair = await subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"]);
  const { kty, crv, x, y } = await subtle.exportKey("jwk", pair.publicKey);
  out.keys.push({ jwk: { kty, crv, x, y }, spki_pem: pem(await subtle.exportKey("spki", pair.publicKey)) });
  const sigs = [];
  for (const m of messages) {
    const sig = await subtle.sign({ name: "ECDSA", hash: "SHA-256" }, pair.privateKey, new TextEncoder().encode(m));
    sigs.push(b64url(sig));
  }
  out.signatures.push(sigs);
}
console.log(JSON.stringify(out));
