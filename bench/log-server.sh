#!/bin/sh
# npm run bench:log-server — server CPU per connection with info logging against --log-level warn.
# Our server runs pinned to core 0 with its stdout a pipe (to cat), the product's bench generator
# churns connections (connect, header, one line, q) from core 1; the server's CPU time is read
# from /proc before and after. Rounds alternate info and warn so both see the same machine.
# Usage: bench/log-server.sh [ROUNDS] [SECONDS]   (run it under flock /tmp/elb-heavy.lock)
set -eu
rounds=${1:-3}
secs=${2:-5}
cd "$(dirname "$0")/.."
node=node_modules/.bin/node
tick=$(getconf CLK_TCK)
dir=$(mktemp -d)
server=
trap 'if [ -n "$server" ]; then kill "$server" 2>/dev/null; fi; rm -rf "$dir"' EXIT
mkfifo "$dir/log"

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

round() {
  level=$1
  : >"$dir/port"
  # The server writes its log to a pipe, as under a supervisor; cat drains it on core 1 once the
  # line with the port has been read.
  taskset -c 1 sh -c 'grep -m 1 "listening on port" >"$0"; exec cat >/dev/null' "$dir/port" <"$dir/log" &
  reader=$!
  taskset -c 0 "$node" src/cli.ts serve --host 127.0.0.1 --port 0 --trust 127.0.0.1 \
    --log-level "$level" >"$dir/log" &
  server=$!
  while [ ! -s "$dir/port" ]; do sleep 0.1; done
  port=$(sed -n 's/.*listening on port \([0-9]*\).*/\1/p' "$dir/port")
  before=$(cpu_ticks "$server")
  out=$(timeout $((secs + 30)) taskset -c 1 "$node" src/cli.ts bench --target "127.0.0.1:$port" \
    --proxy-header v2 --scenario connect --clients 50 --duration "${secs}s" --procs 0 --json --quiet) || true
  after=$(cpu_ticks "$server")
  kill "$server"
  wait "$server" "$reader" || true
  server=
  echo "$out" | "$node" -e '
    const r = JSON.parse(require("fs").readFileSync(0, "utf8"));
    const [level, ticks, tick] = process.argv.slice(1).map((v, i) => (i ? Number(v) : v));
    const conns = r.connectionsPerSecond * r.seconds;
    const us = ((ticks / tick) * 1e6) / conns;
    const errors = Object.values(r.errors).reduce((a, b) => a + b, 0);
    const gen = Math.round(100 * Math.max(...r.generatorBusy));
    console.log(`${level.padEnd(5)} ${Math.round(r.connectionsPerSecond)} connections/s, server ${us.toFixed(1)} µs CPU per connection, generator ${gen}% busy, ${errors} errors`);
  ' "$level" "$((after - before))" "$tick"
}

i=0
while [ "$i" -lt "$rounds" ]; do
  round info
  round warn
  i=$((i + 1))
done
