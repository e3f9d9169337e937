// The Node peer of the load tests: socket.io 4.8 with the hub's chat semantics (join a room,
// send a message with an ack, the room gets it with a per-room seq), and nothing else: no
// authentication, no storage. PORT (default 3001).
import { createServer } from "node:http";
import { Server } from "socket.io";

const port = Number(process.env.PORT ?? 3001);
const http = createServer();
const io = new Server(http, {
  cors: { origin: "*" },
  // Match the hub: no compression, 1 MB payloads, default heartbeat.
  perMessageDeflate: false,
  maxHttpBufferSize: 1e6,
});
const seqs = new Map();

io.on("connection", (socket) => {
  socket.on("room:join", (req, ack) => {
    const room = req?.room;
    if (typeof room !== "string") return ack?.({ ok: false, error: { code: "invalid", message: "room" } });
    socket.join(room);
    ack?.({ ok: true, room, role: "member", last_seq: seqs.get(room) ?? 0, presence: [], typing: [], unread: 0 });
  });
  socket.on("chat:send", (req, ack) => {
    const { room, client_id, body } = req ?? {};
    if (!socket.rooms.has(room)) return ack?.({ ok: false, error: { code: "forbidden", message: "join first" } });
    const seq = (seqs.get(room) ?? 0) + 1;
    seqs.set(room, seq);
    const message = {
      id: `${room}-${seq}`, room, seq, author_id: socket.id, client_id, body,
      reply_to: null, created_at: new Date().toISOString(), edited_at: null, deleted: false, reactions: {},
    };
    socket.to(room).emit("chat:message", message);
    ack?.({ ok: true, message });
  });
  socket.on("sys:ping", (ack) => ack?.({ ok: true, time: new Date().toISOString(), node: "node-peer" }));
});

// Said once the port is bound, not before: whoever waits for this line may connect at once.
http.listen(port, "127.0.0.1", () => console.log(`socket.io peer listening on :${port}`));
