#!/usr/bin/env bash
# Reproduces one figure of BENCHMARKS.md: builds release binaries, starts the target(s) on
# loopback with a fresh data dir, runs the scenario, prints the summary, stops everything.
#
#   loadtest/bench.sh chat-hub     # 1 room x 1000 members, 200 msg/s, 20 s, against the hub
#   loadtest/bench.sh chat-node    # the same against Node socket.io 4.8
#   loadtest/bench.sh sweep        # both at several rates (latency at equal load)
#   loadtest/bench.sh idle-hub     # 19,000 idle connections, hub memory per connection
#   loadtest/bench.sh idle-node    # the same against Node socket.io
#   loadtest/bench.sh presence     # 50 users/s churn for 10 s
#   loadtest/bench.sh docs         # 10 documents x 20 editors typing 5/s each over /yjs
#   loadtest/bench.sh abuse        # stalled readers, handshake flood, awareness flood: hub RSS
#   loadtest/bench.sh cluster      # two nodes on Postgres + Redis: chat and docs, one node vs
#                                  # across nodes in the same run (needs Postgres and Redis)
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
figure="${1:?which figure? chat-hub, chat-node, sweep, idle-hub, idle-node, presence, docs, abuse, cluster}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/hub-target}"
cargo build --release -q -p hub -p loadtest
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
  HUB_CHAT_RATE=1000 HUB_CHAT_BURST=1000 HUB_REST_RATE_USER=1000000/1s LOG_FORMAT=json "${on_server[@]}" "$bin/hub" --addr 127.0.0.1:3000 --data-dir "$data" >"$data/hub.log" 2>&1 &
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
hub_lt() { "${on_loadgen[@]}" "$bin/loadtest" --data-dir "$data" "$@"; }
node_lt() { "${on_loadgen[@]}" "$bin/loadtest" --target http://127.0.0.1:3001 --peer socketio-node "$@"; }
chat_args=(chat --rooms 1 --members 1000 --publishers 20 --duration 20 --drain 5)

case "$figure" in
  chat-hub) start_hub; hub_lt --json "$out/chat-hub.json" --plot "$out/chat-hub.svg" "${chat_args[@]}" --rate 200 ;;
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
  idle-hub) start_hub; hub_lt --json "$out/idle-hub.json" idle --connections 19000 --rate 3000 --hold 5 --pid "$hub_pid" ;;
  idle-node) start_node; node_lt --json "$out/idle-node.json" idle --connections 19000 --rate 3000 --hold 5 --pid "$node_pid" ;;
  presence) start_hub; hub_lt --json "$out/presence.json" presence --rate 50 --duration 10 --stay-ms 1000 --grace-ms 5000 ;;
  docs) start_hub; hub_lt --json "$out/docs.json" docs --docs 10 --editors 20 --rate 5 --duration 10 --drain 3 ;;
  abuse) start_hub; hub_lt --json "$out/abuse.json" abuse --pid "$hub_pid" ;;
  cluster)
    # Two nodes on one Postgres schema and one Redis (channels of this run's own).
    pg="${HUB_BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}"
    schema="bench_$(date +%s)"
    psql "$pg" -q -c "CREATE SCHEMA $schema" >/dev/null
    trap 'cleanup; psql "$pg" -q -c "DROP SCHEMA IF EXISTS $schema CASCADE" >/dev/null 2>&1 || true' EXIT
    export DATABASE_URL="$pg?options=-c%20search_path%3D$schema" REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379}"
    export HUB_REDIS_PREFIX="$schema:" JWT_SECRET="$(head -c 32 /dev/urandom | base64)"
    "$bin/hub" migrate >/dev/null
    for port in 3000 3002; do
      port_free "$port"
      HUB_CHAT_RATE=1000 HUB_CHAT_BURST=1000 HUB_REST_RATE_USER=1000000/1s LOG_FORMAT=json "${on_server[@]}" "$bin/hub" --addr "127.0.0.1:$port" --data-dir "$data" >"$data/hub-$port.log" 2>&1 &
      pids+=($!)
      for _ in $(seq 1 50); do curl -sf "http://127.0.0.1:$port/api/health" >/dev/null && break; sleep 0.2; done
    done
    one=(--target http://127.0.0.1:3000); two=(--target http://127.0.0.1:3000,http://127.0.0.1:3002)
    summary() { python3 -c "import json;d=json.load(open('$1'));l=d['latency'];print('%-28s %9.0f delivered/s  p50 %7.1f ms  p99 %7.1f ms  lost %d  gaps %d  dups %d' % ('$2', d['delivered_per_second'], l['p50_ms'], l['p99_ms'], d['expected_deliveries']-d['delivered'], d['seq_gaps'], d['duplicates']))"; }
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
  *) echo "unknown figure $figure" >&2; exit 2 ;;
esac
