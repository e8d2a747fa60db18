#!/usr/bin/env bash
# Figures for docs/clickhouse.md ("Figures"): on generated tenants
# (outsider generate --size), the in-process engine, then one ClickHouse
# server, then two servers as two shards behind a Distributed table:
# load time and rate, triage time (median of 3, --format json), whether the
# report is byte-identical to the engine's, and storage per record.
#
# Servers are started here on loopback (Debian's clickhouse-server, or the
# single clickhouse binary), each with its config and data in a temporary
# folder, and stopped at the end. On one machine both shards share its
# cores and disk: the two-shard figures show distribution's overhead, not a
# speed-up.
#
# Usage: bench/clickhouse.sh [SIZE...]   (default: 1400MB 14GB, about 1M and 10M records)
# BENCH_DIR keeps the generated inputs between runs (default /tmp/outsider-bench-ch).
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(1400MB 14GB)
data=${BENCH_DIR:-/tmp/outsider-bench-ch}
mkdir -p "$data"
work=$(mktemp -d)
pids=()
stop_servers() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  pids=()
}
trap 'stop_servers; rm -rf "$work"' EXIT

if command -v clickhouse-server >/dev/null 2>&1; then
  server=(clickhouse-server)
elif command -v clickhouse >/dev/null 2>&1; then
  server=(clickhouse server)
else
  echo "no ClickHouse server installed (apt-get install clickhouse-server)" >&2
  exit 1
fi
go build -o "$work/outsider" ./cmd/outsider
o=$work/outsider
port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})' 2>/dev/null ||
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# start_servers N: N servers, each one shard of cluster "bench"; sets http[].
start_servers() {
  local n=$1 i shards=""
  http=() tcp=()
  for ((i = 0; i < n; i++)); do
    http+=("$(port)") tcp+=("$(port)")
    shards+="<shard><replica><host>127.0.0.1</host><port>${tcp[i]}</port></replica></shard>"
  done
  for ((i = 0; i < n; i++)); do
    local d=$work/server-$n-$i
    rm -rf "$d" # a fresh server for every run: nothing loaded before
    mkdir -p "$d"
    cat >"$d/config.xml" <<EOF
<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><console>1</console></logger>
  <http_port>${http[i]}</http_port>
  <tcp_port>${tcp[i]}</tcp_port>
  <listen_host>127.0.0.1</listen_host>
  <path>$d/data/</path>
  <tmp_path>$d/tmp/</tmp_path>
  <user_files_path>$d/user_files/</user_files_path>
  <format_schema_path>$d/format_schemas/</format_schema_path>
  <mark_cache_size>1073741824</mark_cache_size>
  <users><default><password></password><networks><ip>127.0.0.1</ip></networks><profile>default</profile><quota>default</quota></default></users>
  <profiles><default></default></profiles>
  <quotas><default></default></quotas>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <timezone>UTC</timezone>
  <remote_servers><bench>$shards</bench></remote_servers>
</yandex>
EOF
    (cd "$d" && exec "${server[@]}" --config-file="$d/config.xml" >"$d/server.log" 2>&1) &
    pids+=($!)
  done
  for ((i = 0; i < n; i++)); do
    for _ in $(seq 300); do
      curl -sf "http://127.0.0.1:${http[i]}/" --data-binary 'SELECT 1' >/dev/null 2>&1 && break
      sleep 0.1
    done
  done
}

seconds() { # run a command, print its wall time in seconds
  local t0 t1
  t0=$(date +%s.%N)
  "$@" >/dev/null
  t1=$(date +%s.%N)
  awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }'
}
median3() { printf '%s\n' "$@" | sort -n | sed -n 2p; }

echo "machine: $(nproc) CPU, $(free -g | awk '/Mem:/{print $2}') GiB; ClickHouse $(dpkg-query -W -f '${Version}' clickhouse-server 2>/dev/null || "${server[@]}" --version | head -1)"
printf '| records | where | load s | load records/s | load peak RSS | triage s (median of 3) | same JSON as the engine | bytes/record stored |\n'
printf '|---|---|---|---|---|---|---|---|\n'
for size in "${sizes[@]}"; do
  in=$data/tenant-$size.jsonl
  [ -s "$in" ] || "$o" generate --size "$size" --seed 7 -o "$in"
  records=$(wc -l <"$in")
  "$o" triage --format json "$in" >"$work/engine.json"
  e1=$(seconds "$o" triage --format json "$in")
  e2=$(seconds "$o" triage --format json "$in")
  e3=$(seconds "$o" triage --format json "$in")
  printf '| %s | in-process engine | | | | %.2f | | |\n' "$records" "$(median3 "$e1" "$e2" "$e3")"
  for n in 1 2; do
    start_servers "$n"
    dsn=http://127.0.0.1:${http[0]}/default
    init=(--init)
    where="one server"
    for ((i = 0; i < n; i++)); do init+=(--clickhouse "http://127.0.0.1:${http[i]}/default"); done
    if [ "$n" -gt 1 ]; then
      init+=(--cluster bench)
      where="two shards"
    fi
    "$o" load "${init[@]}" --quiet
    # Load time and peak memory (GNU time), or time alone.
    rss=
    if [ -x /usr/bin/time ]; then
      /usr/bin/time -f '%e %M' -o "$work/time" "$o" load --quiet --clickhouse "$dsn" "$in"
      read -r lt rss <"$work/time"
      rss="$((rss / 1024)) MB"
    else
      lt=$(seconds "$o" load --quiet --clickhouse "$dsn" "$in")
    fi
    t1=$(seconds "$o" triage --format json --clickhouse "$dsn")
    t2=$(seconds "$o" triage --format json --clickhouse "$dsn")
    t3=$(seconds "$o" triage --format json --clickhouse "$dsn")
    "$o" triage --format json --clickhouse "$dsn" >"$work/ch.json"
    same=no
    if cmp -s "$work/engine.json" "$work/ch.json"; then
      same=yes
    else
      cp "$work/engine.json" "$data/mismatch-$records-engine.json"
      cp "$work/ch.json" "$data/mismatch-$records-$n.json"
      echo "reports differ: $data/mismatch-$records-engine.json $data/mismatch-$records-$n.json" >&2
    fi
    bytes=0
    for ((i = 0; i < n; i++)); do
      b=$(curl -sS "http://127.0.0.1:${http[i]}/" --data-binary "SELECT sum(bytes) FROM system.parts WHERE active AND table LIKE 'outsider_events%'")
      bytes=$((bytes + b))
    done
    printf '| %s | %s | %.1f | %.0f | %s | %.2f | %s | %.0f |\n' "$records" "$where" "$lt" "$(awk -v r="$records" -v t="$lt" 'BEGIN { print r / t }')" "$rss" \
      "$(median3 "$t1" "$t2" "$t3")" "$same" "$(awk -v b="$bytes" -v r="$records" 'BEGIN { print b / r }')"
    stop_servers
  done
done
