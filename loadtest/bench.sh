#!/usr/bin/env bash
# Reproduces one figure of BENCHMARKS.md: builds release binaries, starts the target(s) on
# loopback with a fresh data dir, runs the scenario, prints the summary, stops everything.
#
#   loadtest/bench.sh chat-hub     # 1 room x 1000 members, 200 msg/s, 20 s, against the hub
#   loadtest/bench.sh chat-node    # the same against Node socket.io 4.8
#   loadtest/bench.sh sweep        # both at several rates (latency at equal load)
#   loadtest/bench.sh idle-hub     # 19,000 idle connections, hub memory per connection
#   loadtest/bench.sh idle-node    # the same against Node socket.io
#   loadtest/bench.sh idle-joined  # 19,000 connections that joined 190 rooms of 100 (presence on
#                                  # the hub): hub, raw peer and Node one after the other
#   loadtest/bench.sh presence     # 50 users/s churn for 10 s
#   loadtest/bench.sh docs         # 10 documents x 20 editors typing 5/s each over /yjs
#   loadtest/bench.sh abuse        # stalled readers, handshake flood, awareness flood: hub RSS
#   loadtest/bench.sh cluster      # two nodes on Postgres + Redis: chat and docs, one node vs
#                                  # across nodes in the same run (needs Postgres and Redis)
#   loadtest/bench.sh commit       # chat group commit on Postgres: 100 rooms, 200 senders,
#                                  # 10,000 msg/s; acked/s and ack latency (needs Postgres)
#   loadtest/bench.sh chat-raw     # chat-hub's run against the raw tokio-tungstenite peer
#   loadtest/bench.sh cluster-50k  # 50,000 idle connections over 3 nodes (Postgres + Redis),
#                                  # one generator process per node, held past two heartbeats
#   loadtest/bench.sh docs-side    # 1 document x 20 editors at rising rates: the hub and the
#                                  # stock @y/websocket-server in turn, in the same run;
#                                  # BENCH_APPLIERS=2 has only 2 editors replay what they get
#                                  # (the others read and time it), to offer more per core
#   loadtest/bench.sh ledger       # domain events (task accepted, crediting BUZ) spread over
#                                  # 10,000 users, on one hot user, and bursts of 1,000, on
#                                  # Postgres then SQLite, beside a plain hash-chained ledger
#                                  # run by pgbench on the same Postgres (loadtest/peers/
#                                  # pg-ledger); prints the ratios (needs Postgres, pgbench)
#   loadtest/bench.sh fanout       # hub, raw peer and Node side by side, 1 room x 1000, at
#                                  # rising rates: latency and losses at each
#   loadtest/bench.sh publish      # the server API: a backend publishing to 1 room x 1000 over
#                                  # REST, beside chat from sockets at the same rates
#   loadtest/bench.sh revoke       # a revocation through the server API: time until the last
#                                  # of a user's 10 tabs over two nodes is closed (Postgres, Redis)
#   loadtest/bench.sh scale        # interest routing: 1, 2, 4 nodes (Postgres + Redis), 8 rooms
#                                  # of 100 spread over the nodes; bus messages in and out per
#                                  # node; BENCH_BEFORE_BIN=<hub> adds the same 4-node run of
#                                  # another build; then 4 nodes over a local Redis Cluster (3
#                                  # masters): messages per shard
#   loadtest/bench.sh webhooks     # webhook deliveries/s to a local receiver (1 and 4
#                                  # endpoints, SQLite then Postgres), beside a bare sequential
#                                  # HTTP client to the same receiver
#
# Servers and generator are pinned to different cores with taskset (servers on
# BENCH_SERVER_CPUS, default 0; the generator on BENCH_LOADGEN_CPUS, default the others), so that
# latency figures do not mix the two; BENCH_PIN=0 turns it off. The generator reports its own CPU
# use (`generator` in each summary) and says when it, not the target, was the bottleneck.
#
# Results go to target/bench/ (JSON summaries, SVG latency plots). Binaries are built into
# CARGO_TARGET_DIR (default ~/.cache/hub-target, shared with CI). Ports 3000 (hub) and 3001
# (Node) must be free: it refuses to measure a server it did not start.
set -euo pipefail
cd "$(dirname "$0")/.."
figure="${1:?which figure? chat-hub, chat-node, chat-raw, sweep, fanout, commit, ledger, idle-hub, idle-node, idle-raw, idle-joined, presence, docs, abuse, cluster, scale}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/hub-target}"
cargo build --release -q -p hub -p loadtest -p raw-ws-peer
bin="$CARGO_TARGET_DIR/release"
out="target/bench"; mkdir -p "$out"
server_cpus="${BENCH_SERVER_CPUS:-0}"
loadgen_cpus="${BENCH_LOADGEN_CPUS:-1-$(( $(nproc) - 1 ))}"
# taskset execs its command, so a background server's $! is the server itself.
on_server=(); on_loadgen=()
if [ "${BENCH_PIN:-1}" != 0 ] && command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
  on_server=(taskset -c "$server_cpus"); on_loadgen=(taskset -c "$loadgen_cpus")
  echo "bench.sh: servers on CPU $server_cpus, the generator on CPU $loadgen_cpus" >&2
fi
data="$(mktemp -d)"
pids=()
hub_env=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$data"; }
trap cleanup EXIT

# The figures need their port to themselves: another server answering there would be measured
# instead of the one started here.
port_free() {
  if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then
    echo "bench.sh: port $1 already serves something; stop it first" >&2; exit 1
  fi
}
start_hub() {
  port_free 3000
  env "${hub_env[@]}" HUB_CHAT_RATE=1000 HUB_CHAT_BURST=1000 HUB_REST_RATE_USER=1000000/1s HUB_MAX_CONNS_PER_USER=0 HUB_MAX_CONNS_PER_IP=0 HUB_HANDSHAKE_RATE_IP=off LOG_FORMAT=json "${on_server[@]}" "$bin/hub" --addr 127.0.0.1:3000 --data-dir "$data" >"$data/hub.log" 2>&1 &
  pids+=($!); hub_pid=$!
  for _ in $(seq 1 50); do
    kill -0 "$hub_pid" 2>/dev/null || { echo "the hub exited: $(tail -n 3 "$data/hub.log")" >&2; exit 1; }
    # Ours: it logs the address it listens on.
    grep -q 'hub listening on http://127.0.0.1:3000' "$data/hub.log" && curl -sf http://127.0.0.1:3000/api/health >/dev/null && return
    sleep 0.2
  done
  echo "the hub did not start" >&2; exit 1
}
start_node() {
  port_free 3001
  [ -d loadtest/peers/socketio-node/node_modules ] || npm ci --prefix loadtest/peers/socketio-node --no-audit --no-fund --loglevel=error
  (cd loadtest/peers/socketio-node && PORT=3001 exec "${on_server[@]}" node server.mjs) >"$data/node.log" 2>&1 &
  pids+=($!); node_pid=$!
  sleep 1.5
}
start_raw() {
  port_free 3003
  "${on_server[@]}" "$bin/raw-ws-peer" 127.0.0.1:3003 >"$data/raw.log" 2>&1 &
  pids+=($!); raw_pid=$!
  for _ in $(seq 1 50); do (exec 3<>/dev/tcp/127.0.0.1/3003) 2>/dev/null && return; sleep 0.1; done
  echo "the raw peer did not start" >&2; exit 1
}
# A fresh Postgres schema of this run's own, dropped at exit; exports DATABASE_URL for it.
postgres_schema() {
  pg="${HUB_BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}"
  schema="bench_$(date +%s)"
  psql "$pg" -q -c "CREATE SCHEMA $schema" >/dev/null
  trap 'cleanup; psql "$pg" -q -c "DROP SCHEMA IF EXISTS $schema CASCADE" >/dev/null 2>&1 || true' EXIT
  export DATABASE_URL="$pg?options=-c%20search_path%3D$schema"
}
summary() { python3 -c "import json;d=json.load(open('$1'));l=d['latency'];a=d['ack_latency'];print('%-28s %9.0f delivered/s  p50 %7.1f ms  p99 %7.1f ms  lost %d  gaps %d  dups %d  acked %d (ack p50 %.1f, p99 %.1f ms)' % ('$2', d['delivered_per_second'], l['p50_ms'], l['p99_ms'], d['expected_deliveries']-d['delivered'], d['seq_gaps'], d['duplicates'], d['acked'], a['p50_ms'], a['p99_ms']))"; }
start_yws() {
  port_free 3004
  [ -d loadtest/peers/y-websocket/node_modules ] || npm ci --prefix loadtest/peers/y-websocket --no-audit --no-fund --loglevel=error
  (cd loadtest/peers/y-websocket && HOST=127.0.0.1 PORT=3004 exec "${on_server[@]}" node node_modules/@y/websocket-server/src/server.js) >"$data/yws.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 50); do (exec 3<>/dev/tcp/127.0.0.1/3004) 2>/dev/null && return; sleep 0.1; done
  echo "@y/websocket-server did not start" >&2; exit 1
}
docs_summary() { python3 -c "import json;d=json.load(open('$1'));l=d['latency'];print('%-30s %8.0f updates/s in  %9.0f relayed/s  %9d frames  p50 %7.1f ms  p99 %7.1f ms  %d/%d converged  generator %d%%%s' % ('$2', d['updates_sent']/d.get('seconds', $3), d['received_per_second'], d['frames_received'], l['p50_ms'], l['p99_ms'], d['converged_documents'], d['documents'], d['generator']['cpu_percent'], ' (bottleneck)' if d['generator']['bottleneck'] else ''))"; }
yws_lt() { "${on_loadgen[@]}" "$bin/loadtest" --target http://127.0.0.1:3004 --peer y-websocket "$@"; }
raw_lt() { "${on_loadgen[@]}" "$bin/loadtest" --target http://127.0.0.1:3003 --peer raw "$@"; }
hub_lt() { "${on_loadgen[@]}" "$bin/loadtest" --data-dir "$data" "$@"; }
node_lt() { "${on_loadgen[@]}" "$bin/loadtest" --target http://127.0.0.1:3001 --peer socketio-node "$@"; }
chat_args=(chat --rooms 1 --members 1000 --publishers 20 --duration 20 --drain 5)

case "$figure" in
  chat-hub) start_hub; hub_lt --json "$out/chat-hub.json" --plot "$out/chat-hub.svg" "${chat_args[@]}" --rate 200 ;;
  chat-raw) start_raw; raw_lt --json "$out/chat-raw.json" --plot "$out/chat-raw.svg" "${chat_args[@]}" --rate 200 ;;
  chat-node) start_node; node_lt --json "$out/chat-node.json" --plot "$out/chat-node.svg" "${chat_args[@]}" --rate 200 ;;
  sweep)
    start_hub; start_node
    for rate in 25 50 100 150 200; do
      hub_lt --quiet --json "$out/sweep-hub-$rate.json" chat --rooms 1 --members 1000 --publishers 20 --duration 10 --drain 3 --rate "$rate" >/dev/null
      node_lt --quiet --json "$out/sweep-node-$rate.json" chat --rooms 1 --members 1000 --publishers 20 --duration 10 --drain 3 --rate "$rate" >/dev/null
      for who in hub node; do
        python3 -c "import json,sys;d=json.load(open('$out/sweep-$who-$rate.json'));print('%-5s %4s msg/s: %7.0f delivered/s  p50 %7.1f ms  p99 %7.1f ms  lost %d  gaps %d' % ('$who', '$rate', d['delivered_per_second'], d['latency']['p50_ms'], d['latency']['p99_ms'], d['expected_deliveries']-d['delivered'], d['seq_gaps']))"
      done
    done ;;
  idle-hub) start_hub; hub_lt --json "$out/idle-hub.json" idle --connections 19000 --rate 3000 --hold 5 --settle 12 --pid "$hub_pid" ;;
  idle-raw) start_raw; raw_lt --json "$out/idle-raw.json" idle --connections 19000 --rate 3000 --hold 5 --settle 12 --pid "$raw_pid" ;;
  idle-joined)
    # 19,000 users, each in one of 190 rooms of 100 (and so with presence on the hub), the hub,
    # the raw peer and Node one after the other, joining at BENCH_JOIN_RATE a second (default
    # 1000; on a slow machine the hub, on one core, refuses some joins at that rate: `joined`).
    join_rate="${BENCH_JOIN_RATE:-1000}"
    idle_summary() { python3 -c "import json;d=json.load(open('$1'));print('%-6s %d connected, %d joined: %.1f KiB per connection (%.1f before the joins), %d dropped' % ('$2', d['connected'], d['joined'], d['target_kib_per_connection'], d['target_kib_per_connection_before_join'], d['dropped_during_hold']))"; }
    start_hub; hub_lt --quiet --json "$out/idle-joined-hub.json" idle --connections 19000 --rate 3000 --hold 5 --settle 12 --rooms 190 --join-rate "$join_rate" --pid "$hub_pid" >/dev/null
    kill "$hub_pid"; wait "$hub_pid" 2>/dev/null || true
    start_raw; raw_lt --quiet --json "$out/idle-joined-raw.json" idle --connections 19000 --rate 3000 --hold 5 --settle 12 --rooms 190 --join-rate "$join_rate" --pid "$raw_pid" >/dev/null
    kill "$raw_pid"; wait "$raw_pid" 2>/dev/null || true
    start_node; node_lt --quiet --json "$out/idle-joined-node.json" idle --connections 19000 --rate 3000 --hold 5 --settle 12 --rooms 190 --join-rate "$join_rate" --pid "$node_pid" >/dev/null
    for who in hub raw node; do idle_summary "$out/idle-joined-$who.json" "$who"; done ;;
  fanout)
    # One room of 1,000 at rising rates, the three servers in turn in the same run.
    start_hub; start_raw; start_node
    for rate in ${BENCH_RATES:-50 100 200 300 400}; do
      for who in hub raw node; do
        "${who}_lt" --quiet --json "$out/fanout-$who-$rate.json" chat --rooms 1 --members 1000 --publishers 20 --duration 10 --drain 3 --rate "$rate" >/dev/null
        summary "$out/fanout-$who-$rate.json" "$who, $rate msg/s"
      done
    done ;;
  commit)
    # Group commit on Postgres: many rooms, many senders, one member each (the acks matter).
    postgres_schema
    start_hub
    hub_lt --json "$out/commit.json" chat --rooms 100 --members 1 --publishers 200 --rate "${BENCH_RATE:-10000}" --duration 10 --drain 3
    summary "$out/commit.json" "group commit, ${BENCH_RATE:-10000} msg/s" ;;
  publish)
    # The server API: a backend publishing to 1,000 members through REST, then the same room
    # size fed by chat from sockets, on the same hub in the same run.
    start_hub
    for rate in ${BENCH_RATES:-50 100 200}; do
      hub_lt --quiet --json "$out/publish-$rate.json" publish --members 1000 --rate "$rate" --duration 10 --drain 3 >/dev/null
      python3 -c "import json;d=json.load(open('$out/publish-$rate.json'));l=d['latency'];a=d['api_latency'];print('publish %4s/s: %8.0f delivered/s  p50 %6.1f ms  p99 %6.1f ms  lost %d  (REST answer p50 %.1f, p99 %.1f ms)' % ('$rate', d['delivered_per_second'], l['p50_ms'], l['p99_ms'], d['expected_deliveries']-d['delivered'], a['p50_ms'], a['p99_ms']))"
      hub_lt --quiet --json "$out/publish-chat-$rate.json" chat --rooms 1 --members 1000 --publishers 20 --duration 10 --drain 3 --rate "$rate" >/dev/null
      summary "$out/publish-chat-$rate.json" "chat    $rate/s"
    done ;;
  webhooks)
    # Webhook deliveries to a receiver in the load generator, 1 and 4 endpoints, on SQLite and
    # on Postgres; beside each, a bare sequential HTTP client to the same receiver.
    hook_summary() { python3 -c "import json;d=json.load(open('$1'));l=d['latency'];print('%-24s %7.0f deliveries/s  %d/%d delivered  dups %d  send-to-delivery p50 %7.1f ms  p99 %7.1f ms  (bare sequential client %.0f/s)' % ('$2', d['delivered_per_second'], d['delivered'], d['expected_deliveries'], d['duplicates'], l['p50_ms'], l['p99_ms'], d['bare_sequential_per_second']))"; }
    hub_env+=(HUB_WEBHOOK_ALLOW_PRIVATE=true)
    for store in sqlite postgres; do
      if [ "$store" = postgres ]; then postgres_schema; fi
      start_hub
      for endpoints in 1 4; do
        hub_lt --quiet --json "$out/webhooks-$store-$endpoints.json" webhooks --endpoints "$endpoints" --rate "${BENCH_RATE:-500}" --duration 10 >/dev/null
        hook_summary "$out/webhooks-$store-$endpoints.json" "$store, $endpoints endpoint(s)"
      done
      kill "$hub_pid"; wait "$hub_pid" 2>/dev/null || true
      while (exec 3<>/dev/tcp/127.0.0.1/3000) 2>/dev/null; do sleep 0.5; done
    done ;;
  idle-node) start_node; node_lt --json "$out/idle-node.json" idle --connections 19000 --rate 3000 --hold 5 --settle 12 --pid "$node_pid" ;;
  presence) start_hub; hub_lt --json "$out/presence.json" presence --rate 50 --duration 10 --stay-ms 1000 --grace-ms 5000 ;;
  docs) start_hub; hub_lt --json "$out/docs.json" docs --docs 10 --editors 20 --rate 5 --duration 10 --drain 3 ;;
  docs-side)
    start_hub; start_yws
    for rate in ${BENCH_RATES:-50 100 200 400}; do
      for who in hub yws; do
        "${who}_lt" --quiet --json "$out/docs-$who-$rate.json" docs --docs 1 --editors 20 --rate "$rate" --duration 10 --drain 3 --appliers "${BENCH_APPLIERS:-0}" >/dev/null
        docs_summary "$out/docs-$who-$rate.json" "$who, 20 x $rate/s" 10
      done
    done ;;
  abuse) start_hub; hub_lt --json "$out/abuse.json" abuse --pid "$hub_pid" ;;
  cluster-50k)
    # One process may hold 20,000 files here: three nodes, three generators, 16,667 each.
    postgres_schema
    export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379}" HUB_REDIS_PREFIX="$schema:" JWT_SECRET="$(head -c 32 /dev/urandom | base64)"
    "$bin/hub" migrate >/dev/null
    node_pids=()
    for port in 3000 3002 3004; do
      port_free "$port"
      LOG_FORMAT=json "${on_server[@]}" "$bin/hub" --addr "127.0.0.1:$port" --data-dir "$data" >"$data/hub-$port.log" 2>&1 &
      pids+=($!); node_pids+=($!)
      for _ in $(seq 1 50); do curl -sf "http://127.0.0.1:$port/api/health" >/dev/null && break; sleep 0.2; done
    done
    gens=()
    for i in 0 1 2; do
      port=$(( 3000 + 2 * i ))
      "${on_loadgen[@]}" "$bin/loadtest" --quiet --target "http://127.0.0.1:$port" --json "$out/cluster-50k-$i.json" idle --connections "${BENCH_PER_NODE:-16667}" --rate 1000 --settle 12 --hold "${BENCH_HOLD:-60}" --pid "${node_pids[$i]}" >/dev/null &
      gens+=($!)
    done
    for g in "${gens[@]}"; do wait "$g"; done
    python3 - "$out" <<'PY'
import json, sys
runs = [json.load(open(f"{sys.argv[1]}/cluster-50k-{i}.json")) for i in range(3)]
for i, d in enumerate(runs):
    print(f"node {i}: {d['connected']} connected, {d['failed']} failed, {d['target_kib_per_connection']:.1f} KiB/connection, node reports {d['hub_reported_connections']}, dropped while held {d['dropped_during_hold']}")
total = sum(d['connected'] for d in runs)
growth = sum(d['target_rss_after_kib'] - d['target_rss_before_kib'] for d in runs)
print(f"cluster: {total} connections held, {growth / max(total, 1):.1f} KiB per connection, {sum(d['dropped_during_hold'] for d in runs)} dropped while held")
PY
    ;;
  cluster)
    # Two nodes on one Postgres schema and one Redis (channels of this run's own).
    postgres_schema
    export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379}"
    export HUB_REDIS_PREFIX="$schema:" JWT_SECRET="$(head -c 32 /dev/urandom | base64)"
    "$bin/hub" migrate >/dev/null
    for port in 3000 3002; do
      port_free "$port"
      HUB_CHAT_RATE=1000 HUB_CHAT_BURST=1000 HUB_REST_RATE_USER=1000000/1s HUB_MAX_CONNS_PER_USER=0 HUB_MAX_CONNS_PER_IP=0 HUB_HANDSHAKE_RATE_IP=off LOG_FORMAT=json "${on_server[@]}" "$bin/hub" --addr "127.0.0.1:$port" --data-dir "$data" >"$data/hub-$port.log" 2>&1 &
      pids+=($!)
      for _ in $(seq 1 50); do curl -sf "http://127.0.0.1:$port/api/health" >/dev/null && break; sleep 0.2; done
    done
    one=(--target http://127.0.0.1:3000); two=(--target http://127.0.0.1:3000,http://127.0.0.1:3002)
    for rate in 100 200; do
      "${on_loadgen[@]}" "$bin/loadtest" --quiet "${one[@]}" --json "$out/cluster-one-$rate.json" chat --rooms 1 --members 1000 --publishers 20 --duration 10 --drain 3 --rate "$rate" >/dev/null
      summary "$out/cluster-one-$rate.json" "one node, $rate msg/s"
      "${on_loadgen[@]}" "$bin/loadtest" --quiet "${two[@]}" --json "$out/cluster-cross-$rate.json" chat --rooms 1 --members 1000 --publishers 20 --duration 10 --drain 3 --rate "$rate" --publishers-on 1 >/dev/null
      summary "$out/cluster-cross-$rate.json" "across nodes, $rate msg/s"
    done
    for where in one two; do
      args=("${one[@]}"); [ "$where" = two ] && args=("${two[@]}")
      "${on_loadgen[@]}" "$bin/loadtest" --quiet "${args[@]}" --json "$out/cluster-docs-$where.json" docs --docs 10 --editors 20 --rate 5 --duration 10 --drain 3 >/dev/null
      python3 -c "import json;d=json.load(open('$out/cluster-docs-$where.json'));l=d['latency'];print('docs, %s node(s): %d/%d converged, %.0f updates/s received, p50 %.1f ms, p99 %.1f ms' % ('$where', d['converged_documents'], d['documents'], d['received_per_second'], l['p50_ms'], l['p99_ms']))"
    done ;;
  scale)
    postgres_schema
    export JWT_SECRET="$(head -c 32 /dev/urandom | base64)"
    "$bin/hub" migrate >/dev/null
    # Each node's bus counters from its /metrics, as JSON: {in: {kind: n}, out: {kind: n}}.
    bus_counts() {
      python3 - "$@" <<'PY'
import json, sys, urllib.request
nodes = []
for port in sys.argv[1:]:
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics").read().decode()
    counts = {"in": {}, "out": {}}
    for line in text.splitlines():
        for way in ("in", "out"):
            name = f"hub_bus_messages_{way}_total{{"
            if line.startswith(name):
                kind = line.split('kind="')[1].split('"')[0]
                counts[way][kind] = counts[way].get(kind, 0) + float(line.rsplit(" ", 1)[1])
    nodes.append(counts)
print(json.dumps(nodes))
PY
    }
    # $1 label, $2 hub binary, $3 nodes, $4 REDIS_URL: 8 rooms x 100 members, 8 publishers,
    # 400 msg/s for 10 s, every member and publisher of room r on node r % nodes.
    scale_run() {
      local label="$1" hub="$2" n="$3" redis="$4" ports=() run_pids=()
      for i in $(seq 0 $((n - 1))); do
        local port=$((3000 + 2 * i))
        port_free "$port"
        REDIS_URL="$redis" HUB_REDIS_PREFIX="$schema-$label:" HUB_CHAT_RATE=1000 HUB_CHAT_BURST=1000 HUB_REST_RATE_USER=1000000/1s HUB_MAX_CONNS_PER_USER=0 HUB_MAX_CONNS_PER_IP=0 HUB_HANDSHAKE_RATE_IP=off LOG_FORMAT=json "${on_server[@]}" "$hub" --addr "127.0.0.1:$port" --data-dir "$data" >"$data/hub-$label-$port.log" 2>&1 &
        pids+=($!); run_pids+=($!); ports+=("$port")
        for _ in $(seq 1 50); do curl -sf "http://127.0.0.1:$port/api/health" >/dev/null && break; sleep 0.2; done
      done
      local targets; targets="$(printf 'http://127.0.0.1:%s,' "${ports[@]}")"; targets="${targets%,}"
      bus_counts "${ports[@]}" >"$out/scale-$label-before.json"
      "${on_loadgen[@]}" "$bin/loadtest" --quiet --target "$targets" --json "$out/scale-$label.json" chat --rooms 8 --members 100 --publishers 8 --rate 400 --duration 10 --drain 3 --room-per-node >/dev/null
      bus_counts "${ports[@]}" >"$out/scale-$label-after.json"
      python3 - "$out" "$label" "$n" <<'PY'
import json, sys
out, label, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
before = json.load(open(f"{out}/scale-{label}-before.json"))
after = json.load(open(f"{out}/scale-{label}-after.json"))
d = json.load(open(f"{out}/scale-{label}.json"))
delta = lambda way, kind, i: after[i][way].get(kind, 0) - before[i][way].get(kind, 0)
published = sum(delta("out", "notify", i) for i in range(n))
heard = [delta("in", "notify", i) for i in range(n)]
heard_all = [sum(after[i]["in"].values()) - sum(before[i]["in"].values()) for i in range(n)]
l = d["latency"]
print(f"{label:>12}: {n} node(s), {d['acked']} messages, {d['delivered_per_second']:.0f} delivered/s, p50 {l['p50_ms']:.1f} ms, p99 {l['p99_ms']:.1f} ms, lost {d['expected_deliveries'] - d['delivered']}")
print(f"{'':>12}  room deliveries published by all nodes: {published:.0f}; heard per node: {', '.join(f'{h:.0f}' for h in heard)} ({', '.join(f'{h / max(published, 1):.2f}' for h in heard)} of all); every bus message heard per node: {', '.join(f'{h:.0f}' for h in heard_all)}")
PY
      for p in "${run_pids[@]}"; do kill "$p" 2>/dev/null || true; done
      for p in "${run_pids[@]}"; do wait "$p" 2>/dev/null || true; done
    }
    redis="${REDIS_URL:-redis://127.0.0.1:6379}"
    for n in 1 2 4; do scale_run "now-$n" "$bin/hub" "$n" "$redis"; done
    if [ -n "${BENCH_BEFORE_BIN:-}" ]; then
      scale_run "before-4" "$BENCH_BEFORE_BIN" 4 "$redis"
    fi
    # A local Redis Cluster: 3 masters, 3 replicas, on ports 7100-7105.
    rc="$data/redis-cluster"; mkdir -p "$rc"; rc_nodes=()
    for port in 7100 7101 7102 7103 7104 7105; do
      port_free "$port"
      redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no --cluster-enabled yes --cluster-node-timeout 1000 --cluster-config-file "nodes-$port.conf" --dir "$rc" --daemonize no >"$rc/$port.log" 2>&1 &
      pids+=($!); rc_nodes+=("127.0.0.1:$port")
    done
    sleep 0.5
    redis-cli --cluster create "${rc_nodes[@]}" --cluster-replicas 1 --cluster-yes >/dev/null
    for _ in $(seq 1 100); do redis-cli -p 7100 cluster info | grep -q cluster_state:ok && break; sleep 0.1; done
    shard_calls() { for port in 7100 7101 7102 7103 7104 7105; do redis-cli -p "$port" info commandstats | grep -o 'cmdstat_spublish:calls=[0-9]*' | cut -d= -f2 || echo 0; done | paste -sd' '; }
    before_calls="$(shard_calls)"
    scale_run "cluster-4" "$bin/hub" 4 "redis+cluster://$(IFS=,; echo "${rc_nodes[*]}")"
    after_calls="$(shard_calls)"
    python3 - "$before_calls" "$after_calls" <<'PY'
import sys
b = [int(x) for x in sys.argv[1].split()] if sys.argv[1] else []
a = [int(x) for x in sys.argv[2].split()]
b += [0] * (len(a) - len(b))
calls = [x - y for x, y in zip(a, b)]
masters = [c for c in calls if c > 0]
print(f"{'':>12}  SPUBLISH per Redis node (ports 7100-7105; replicas take none): {', '.join(str(c) for c in calls)}; per master {sum(masters) / max(len(masters), 1):.0f} on average")
PY
    ;;
  revoke)
    # A revocation through the server API: the time until the last of a user's 10 tabs, spread
    # over two nodes (one Postgres schema, one Redis), is closed; 30 users in turn.
    postgres_schema
    export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379}"
    export HUB_REDIS_PREFIX="$schema:" JWT_SECRET="$(head -c 32 /dev/urandom | base64)"
    "$bin/hub" migrate >/dev/null
    for port in 3000 3002; do
      port_free "$port"
      HUB_REST_RATE_USER=1000000/1s HUB_MAX_CONNS_PER_IP=0 HUB_HANDSHAKE_RATE_IP=off LOG_FORMAT=json "${on_server[@]}" "$bin/hub" --addr "127.0.0.1:$port" --data-dir "$data" >"$data/hub-$port.log" 2>&1 &
      pids+=($!)
      for _ in $(seq 1 50); do curl -sf "http://127.0.0.1:$port/api/health" >/dev/null && break; sleep 0.2; done
    done
    [ -d tests/js/node_modules ] || npm ci --prefix tests/js --no-audit --no-fund --loglevel=error
    admin="$("$bin/hub" token --user bench-admin --role admin)"
    key="$(curl -sf -X POST http://127.0.0.1:3000/api/v1/api-keys -H "authorization: Bearer $admin" -H 'content-type: application/json' -d '{"name":"bench","scopes":["disconnect"]}' | python3 -c 'import json,sys;print(json.load(sys.stdin)["secret"])')"
    (cd tests/js && A=http://127.0.0.1:3000 B=http://127.0.0.1:3002 SECRET="$JWT_SECRET" KEY="$key" ROUNDS=30 TABS=10 "${on_loadgen[@]}" node revoke-bench.mjs) ;;
  ledger)
    # The issuance gates relaxed, so that every event credits BUZ (tier C, quality 1.0, trust
    # 100: 50 BUZ each), as the plain ledger's every statement does.
    hub_env=(HUB_BUZ_REQUIRE_KYC=false HUB_BUZ_MIN_REPUTATION=0 HUB_BUZ_MAX_CREDITS_PER_HOUR=100000000 HUB_BUZ_DAILY_CAP=1000000000000)
    events_summary() { python3 -c "import json;d=json.load(open('$1'));l=d['latency'];b=d['bystander']['latency'];print('%-34s %7.0f events/s  p50 %6.1f  p99 %7.1f  p999 %7.1f ms  %s  bystander p99 %6.1f ms  wrong wallets %s' % ('$2', d['events_per_second'], l['p50_ms'], l['p99_ms'], l['p999_ms'], ' '.join('%s x %d' % kv for kv in d['statuses'].items()), b['p99_ms'], d['wrong_wallets']))"; }
    events_runs() {
      local tag="$1"
      hub_lt --quiet --json "$out/ledger-$tag-spread.json" events --users 10000 --events "${BENCH_EVENTS:-30000}" --in-flight "${BENCH_IN_FLIGHT:-64}" >/dev/null
      events_summary "$out/ledger-$tag-spread.json" "$tag, spread over 10,000 users"
      hub_lt --quiet --json "$out/ledger-$tag-hot.json" events --users 1 --events "${BENCH_HOT_EVENTS:-10000}" --in-flight "${BENCH_IN_FLIGHT:-64}" >/dev/null
      events_summary "$out/ledger-$tag-hot.json" "$tag, one hot user"
      hub_lt --quiet --json "$out/ledger-$tag-burst-hot.json" events --users 1 --events 1000 --in-flight 1000 >/dev/null
      events_summary "$out/ledger-$tag-burst-hot.json" "$tag, burst of 1,000 for one user"
      hub_lt --quiet --json "$out/ledger-$tag-burst-spread.json" events --users 1000 --events 1000 --in-flight 1000 >/dev/null
      events_summary "$out/ledger-$tag-burst-spread.json" "$tag, burst of 1,000 over 1,000"
    }
    postgres_schema
    start_hub
    events_runs postgres
    kill "$hub_pid"; wait "$hub_pid" 2>/dev/null || true
    # The plain ledger, in a schema of its own on the same Postgres, same client count as the
    # issue's baseline (16 clients, 2 threads, 10 s).
    ledger_schema="${schema}_ledger"
    psql "$pg" -q -c "CREATE SCHEMA $ledger_schema" >/dev/null
    trap 'cleanup; psql "$pg" -q -c "DROP SCHEMA IF EXISTS $schema CASCADE" -c "DROP SCHEMA IF EXISTS $ledger_schema CASCADE" >/dev/null 2>&1 || true' EXIT
    PGOPTIONS="-c search_path=$ledger_schema" psql "$pg" -q -v wallets=10000 -f loadtest/peers/pg-ledger/schema.sql >/dev/null 2>&1
    for wallets in 10000 1; do
      PGOPTIONS="-c search_path=$ledger_schema" "${on_loadgen[@]}" pgbench -n -c 16 -j 2 -T "${BENCH_PGBENCH_SECONDS:-10}" -D "wallets=$wallets" -f loadtest/peers/pg-ledger/credit.sql "$pg" >"$out/ledger-pgbench-$wallets.txt" 2>&1
    done
    unset DATABASE_URL
    start_hub
    events_runs sqlite
    python3 - "$out" <<'PY'
import json, re, sys
out = sys.argv[1]
def tps(w):
    return float(re.search(r"tps = ([0-9.]+)", open(f"{out}/ledger-pgbench-{w}.txt").read()).group(1))
spread, hot = tps(10000), tps(1)
pg = {k: json.load(open(f"{out}/ledger-postgres-{k}.json"))["events_per_second"] for k in ("spread", "hot")}
lite = {k: json.load(open(f"{out}/ledger-sqlite-{k}.json"))["events_per_second"] for k in ("spread", "hot")}
print(f"plain ledger (pgbench -c 16 -j 2): {spread:.0f} credits/s over 10,000 wallets, {hot:.0f}/s on one wallet")
print(f"hub on Postgres: spread {pg['spread']:.0f}/s = {pg['spread'] / spread:.2f} x the plain ledger; hot {pg['hot']:.0f}/s = {pg['hot'] / hot:.2f} x")
print(f"hub on SQLite:   spread {lite['spread']:.0f}/s, hot {lite['hot']:.0f}/s")
PY
    ;;
  *) echo "unknown figure $figure" >&2; exit 2 ;;
esac
