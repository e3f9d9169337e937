// Uploads that the hub refuses, sent with Node's own fetch (which sends the whole body before
// it reads the answer, as browsers do), TRIES times each.
// In: BASE (the hub's URL), TOKEN, CASES (a JSON array of {name, size, type, field?}).
// Out (stdout, one JSON line): {name: [status or error code, ...]} per case.
const base = process.env.BASE;
const cases = JSON.parse(process.env.CASES);
const tries = Number(process.env.TRIES ?? 10);
const out = {};
for (const c of cases) {
  out[c.name] = [];
  for (let i = 0; i < tries; i++) {
    const form = new FormData();
    if (c.field) form.append(c.field, "x");
    form.append("title", "Refused");
    form.append("type", "contract");
    form.append("file", new Blob([new Uint8Array(c.size).fill(65)], { type: c.type }), "a.bin");
    try {
      const res = await fetch(`${base}/api/v1/documents`, {
        method: "POST",
        headers: c.anonymous ? {} : { authorization: `Bearer ${process.env.TOKEN}` },
        body: form,
      });
      const body = await res.json();
      out[c.name].push(body?.error?.code ? res.status : `no error body: ${JSON.stringify(body)}`);
    } catch (e) {
      out[c.name].push(String(e.cause?.code ?? e.code ?? e.message));
    }
  }
}
console.log(JSON.stringify(out));
