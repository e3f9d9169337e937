// A webhook receiver for the hub's tests: verifies every delivery with the stock
// `standardwebhooks` package and keeps what it received. Run by tests/cluster/webhooks.rs.
// Environment: WEBHOOK_SECRET (whsec_…). Prints `listening <port>`, then serves:
//   POST /hook          a delivery: verified, kept, answered with the current mode's status
//   GET  /_received     every verified delivery, in arrival order (and every arrival's id)
//   POST /_mode         {status, delay_ms}: how the next deliveries are answered
import { createServer } from "node:http";
import { Webhook } from "standardwebhooks";

const hook = new Webhook(process.env.WEBHOOK_SECRET.replace(/^whsec_/, ""));
const received = [];
const arrived = [];
const refused = [];
let mode = { status: 200, delay_ms: 0 };

function body(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

const server = createServer(async (req, res) => {
  const text = await body(req);
  if (req.url === "/_received") {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ received, refused, arrived }));
    return;
  }
  if (req.url === "/_mode") {
    mode = { ...mode, ...JSON.parse(text) };
    res.writeHead(204).end();
    return;
  }
  arrived.push(req.headers["webhook-id"]);
  let event;
  try {
    event = hook.verify(text, req.headers);
  } catch (e) {
    refused.push({ id: req.headers["webhook-id"], error: String(e) });
    res.writeHead(400).end("bad signature");
    return;
  }
  const { status, delay_ms } = mode;
  if (delay_ms > 0) await new Promise((r) => setTimeout(r, delay_ms));
  received.push({
    id: req.headers["webhook-id"],
    timestamp: Number(req.headers["webhook-timestamp"]),
    type: event.type,
    data: event.data,
    answered: status,
  });
  res.writeHead(status, { "content-type": "text/plain" }).end(status < 300 ? "ok" : "failing");
});

server.listen(0, "127.0.0.1", () => {
  console.log(`listening ${server.address().port}`);
});
