// An identity provider for the hub's tests, with keys made by the `jose` package: serves its
// key set and signs tokens. Run by tests/realtime/jwks.rs. Prints `listening <port>`, then:
//   GET  /jwks.json                      the public keys (RS256, ES256, EdDSA), each with a kid
//   POST /_token {alg, claims, kid?, key_of?}
//                                        a token with header `alg`, signed by the current key of
//                                        `key_of` (default `alg`), or by the retired key `kid`
//   POST /_rotate {alg}                  replaces the key of `alg` by a new one (new kid)
import { createServer } from "node:http";
import { SignJWT, exportJWK, generateKeyPair } from "jose";

const ALGS = ["RS256", "ES256", "EdDSA"];
const keys = new Map(); // alg -> {kid, privateKey, jwk}
const retired = new Map(); // kid -> {alg, privateKey}
let generation = 0;

async function makeKey(alg) {
  generation += 1;
  const kid = `${alg.toLowerCase()}-${generation}`;
  const { publicKey, privateKey } = await generateKeyPair(alg, alg === "EdDSA" ? { crv: "Ed25519" } : {});
  const jwk = { ...(await exportJWK(publicKey)), kid, alg, use: "sig" };
  const old = keys.get(alg);
  if (old) retired.set(old.kid, { alg, privateKey: old.privateKey });
  keys.set(alg, { kid, privateKey, jwk });
}

for (const alg of ALGS) await makeKey(alg);

function body(req) {
  return new Promise((resolve) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
  });
}

const server = createServer(async (req, res) => {
  const text = await body(req);
  if (req.url === "/jwks.json") {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ keys: [...keys.values()].map((k) => k.jwk) }));
    return;
  }
  const asked = text ? JSON.parse(text) : {};
  if (req.url === "/_rotate") {
    await makeKey(asked.alg);
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ kid: keys.get(asked.alg).kid }));
    return;
  }
  if (req.url === "/_token") {
    // A retired key signs too (a token made before its rotation), under its own kid.
    const current = keys.get(asked.key_of ?? asked.alg);
    const signer = asked.kid && retired.has(asked.kid) ? { kid: asked.kid, ...retired.get(asked.kid) } : current;
    const header = { alg: asked.alg, kid: asked.kid ?? signer.kid };
    const now = Math.floor(Date.now() / 1000);
    const token = await new SignJWT({ iat: now, exp: now + 3600, ...asked.claims })
      .setProtectedHeader(header)
      .sign(signer.privateKey);
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ token, kid: header.kid }));
    return;
  }
  res.writeHead(404).end();
});

server.listen(0, "127.0.0.1", () => console.log(`listening ${server.address().port}`));
