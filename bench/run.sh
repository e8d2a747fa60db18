#!/usr/bin/env bash
# Times the whole outsider CLI beside the DuckDB peer (../shared/bench/duckdb-peer)
# on generated inputs, several runs each, and prints medians: MB/s and peak RSS.
#
#   bench/run.sh                 # 1 GB JSON Lines, Purview CSV, gzip'd JSON Lines (one file, 64 files); 4 GB JSON Lines
#   SIZE=256MB RUNS=5 BIG= bench/run.sh
#   FORMATS="jsonl purview-csv" bench/run.sh
#   FORMATS="jsonl.gz jsonl.gz-parts" BIG= bench/run.sh   # one .gz against 64 .gz files
#   STAGES=0 bench/run.sh        # without the table of CPU by stage (BenchmarkRunStages)
#
# Each input also gets a ceiling row: bench/ceiling (read, or read and inflate, and
# nothing else, one file after the other), timed the same way; gzip inputs also GNU
# gzip -dc. jsonl.gz-parts is the same JSON Lines cut into 64 files (a folder, as
# 'outsider collect' archives are), each gzip'd: outsider inflates several at once.
#
# Inputs are generated once into bench/out/ (by 'outsider generate', seeded) and
# reused. The peer is copied to a temporary folder and installed with npm; set
# PEER=0 to skip it (when ../shared or npm is absent). Needs /usr/bin/time (GNU).
set -euo pipefail
cd "$(dirname "$0")/.."

SIZE=${SIZE:-1GB}
RUNS=${RUNS:-3}
FORMATS=${FORMATS:-"jsonl purview-csv jsonl.gz jsonl.gz-parts"}
BIG=${BIG-4GB} # a second, larger JSON Lines input (outsider only): is throughput and memory flat?
PEER=${PEER:-1}
OUT=bench/out
mkdir -p "$OUT"

go build -o "$OUT/outsider" ./cmd/outsider
go build -o "$OUT/ceiling" ./bench/ceiling

peer_dir=""
if [ "$PEER" = 1 ] && [ -d ../shared/bench/duckdb-peer ] && command -v npm >/dev/null; then
  peer_dir=$(mktemp -d)
  trap 'rm -rf "$peer_dir"' EXIT
  cp -r ../shared/bench/duckdb-peer/. "$peer_dir"
  (cd "$peer_dir" && npm install --silent >/dev/null 2>&1) || peer_dir=""
fi

# input FORMAT → path, generating it once.
input() {
  local fmt=$1 gz="" size=${2:-$SIZE}
  if [ "$fmt" = jsonl.gz-parts ]; then
    local whole dir="$OUT/tenant-$size-jsonl.gz-parts"
    whole=$(input jsonl "$size")
    if [ ! -s "$dir/part-63.jsonl.gz" ]; then
      rm -rf "$dir" && mkdir -p "$dir"
      split -n l/64 -d -a 2 --additional-suffix=.jsonl "$whole" "$dir/part-"
      ls "$dir"/*.jsonl | xargs -P "$(nproc)" -n 4 gzip -6
    fi
    echo "$dir"
    return
  fi
  case "$fmt" in *.gz) gz=1; fmt=${fmt%.gz} ;; esac
  local ext=jsonl
  case "$fmt" in *csv*) ext=csv ;; json|ps-json|graph-audit) ext=json ;; esac
  local f="$OUT/tenant-$size-$fmt.$ext"
  if [ ! -s "$f" ]; then
    "$OUT/outsider" generate --size "$size" --format "$fmt" --seed 7 -o "$f" --expected "$f.expected.json" >&2
  fi
  if [ -n "$gz" ]; then
    [ -s "$f.gz" ] || gzip -6 -c "$f" > "$f.gz" # gzip's default level, as exports are
    f="$f.gz"
  fi
  echo "$f"
}

# measure CMD... → "seconds maxrss_kb cpu_seconds" for one run (output
# discarded); CPU is user + system, all threads.
measure() {
  local tf
  tf=$(mktemp)
  /usr/bin/time -o "$tf" -f "%e %M %U %S" "$@" >/dev/null 2>/dev/null || true
  tail -n 1 "$tf" | awk '{printf "%s %s %.2f\n", $1, $2, $3 + $4}'
  rm -f "$tf"
}

median() { sort -n | awk '{a[NR]=$1} END {if (NR==0) {print "nan"} else if (NR%2) {print a[(NR+1)/2]} else {print (a[NR/2]+a[NR/2+1])/2}}'; }

row() { printf '| %-36s | %-12s | %9s | %9s | %8s | %9s | %7s |\n' "$@"; }

echo
echo "machine: $(nproc) CPUs, $(awk '/model name/ {sub(/.*: /,""); print; exit}' /proc/cpuinfo), $(free -g | awk '/Mem:/ {print $2}') GiB; go: $(go version | cut -d' ' -f3); $(date -u +%Y-%m-%d)"
peer_name="skipped"
[ -n "$peer_dir" ] && peer_name="DuckDB via @duckdb/node-api $(cd "$peer_dir" && node -p 'require("@duckdb/node-api/package.json").version' 2>/dev/null)"
echo "runs per cell: $RUNS (median); size: $SIZE; peer: $peer_name"
echo
row "input" "tool" "MB/s" "seconds" "CPU s/GB" "peak RSS" "vs peer"
row "------------------------------------" "------------" "---------" "---------" "--------" "---------" "-------"
cells=""
for fmt in $FORMATS; do cells="$cells $fmt:$SIZE"; done
[ -n "$BIG" ] && cells="$cells jsonl:$BIG"
for cell in $cells; do
  fmt=${cell%%:*} size=${cell##*:}
  f=$(input "$fmt" "$size")
  mb=$(du -m --apparent-size "$f" | cut -f1)
  label="$(basename "$f") ($mb MB)"
  # Throughput of a compressed input is counted in uncompressed bytes.
  files=("$f")
  if [[ "$f" == *.gz ]]; then
    mb=$(du -m --apparent-size "${f%.gz}" | cut -f1)
    label="$(basename "$f") ($mb MB inflated)"
  elif [ -d "$f" ]; then
    files=("$f"/*.gz)
    mb=$(du -m --apparent-size "${f%.gz-parts}.jsonl" | cut -f1)
    label="$(basename "$f") (64 files, $mb MB inflated)"
  fi
  tools=("outsider")
  # The peer reads neither gzip nor (in reasonable time) the larger file.
  [ -n "$peer_dir" ] && [[ "$fmt" != *.gz* ]] && [ "$size" = "$SIZE" ] && tools+=("duckdb-peer")
  # The ceiling, in the same run: bench/ceiling reads the file as outsider's
  # reader does (and inflates a .gz with the same library) and nothing else.
  # For gzip, GNU gzip -dc too: single-stream inflation, which no reader can
  # split across cores, is the limit there.
  tools+=("ceiling")
  [[ "${files[0]}" == *.gz ]] && tools+=("gzip -dc")
  # Runs are interleaved (each round runs every tool once) so that a slow
  # spell of a shared machine does not land on one tool only.
  declare -A secs=() rss=() cpu=()
  for _ in $(seq "$RUNS"); do
    for tool in "${tools[@]}"; do
      case "$tool" in
      outsider) read -r s m c < <(measure "$OUT/outsider" triage --format json --quiet "$f") ;;
      ceiling) read -r s m c < <(measure "$OUT/ceiling" "${files[@]}") ;;
      "gzip -dc") read -r s m c < <(measure gzip -dc "${files[@]}") ;;
      *) read -r s m c < <(measure node "$peer_dir/triage_duckdb.mjs" "$f") ;;
      esac
      secs[$tool]+="$s "
      rss[$tool]+="$m "
      cpu[$tool]+="$c "
    done
  done
  peer_s=""
  [ -n "${secs[duckdb-peer]:-}" ] && peer_s=$(printf '%s\n' ${secs[duckdb-peer]} | median)
  for tool in "${tools[@]}"; do
    s=$(printf '%s\n' ${secs[$tool]} | median)
    m=$(printf '%s\n' ${rss[$tool]} | median)
    c=$(printf '%s\n' ${cpu[$tool]} | median)
    cpg=$(awk -v mb="$mb" -v c="$c" 'BEGIN { printf "%.2f", c * 1024 / mb }')
    m=${m%.*}
    mbs=$(awk -v mb="$mb" -v s="$s" 'BEGIN { if (s > 0) printf "%.0f", mb / s; else print "inf" }')
    vs=""
    if [ "$tool" = outsider ] && [ -n "$peer_s" ]; then
      vs=$(awk -v p="$peer_s" -v s="$s" 'BEGIN { if (s > 0) printf "%.2fx", p / s }')
    fi
    row "$label" "$tool" "$mbs" "$s" "$cpg" "$((m / 1024)) MB" "$vs"
  done
  unset secs rss cpu
done

# CPU by stage: the engine stopped after reading, framing and decoding, then
# after deduplication, then whole (BenchmarkRunStages on 64 MB generated by
# the same generator); the differences are what each stage costs. STAGES=0
# skips it.
if [ "${STAGES:-1}" = 1 ]; then
  echo
  echo "CPU s/GB by stage (BenchmarkRunStages, 64 MB, $RUNS iterations; the engine stopped after each stage):"
  echo
  srow() { printf '| %-12s | %-22s | %-13s | %-16s | %-6s |\n' "$@"; }
  srow "input" "read + frame + decode" "deduplication" "aggregation etc." "whole"
  srow "------------" "----------------------" "-------------" "----------------" "------"
  go test -run '^$' -bench 'RunStages' -benchtime "${RUNS}x" ./internal/triage 2>/dev/null |
    awk '/^BenchmarkRunStages\// {
      split($1, a, "/"); st = a[3]; sub(/-[0-9]+$/, "", st)
      for (i = 2; i <= NF; i++) if ($i == "cpu-s/GB") cpu[a[2], st] = $(i - 1)
      if (!(a[2] in seen)) { seen[a[2]] = 1; order[++n] = a[2] }
    }
    END {
      for (k = 1; k <= n; k++) {
        f = order[k]; d = cpu[f, "decode"]; u = cpu[f, "dedup"]; w = cpu[f, "all"]
        printf "| %-12s | %-22.2f | %-13.2f | %-16.2f | %-6.2f |\n", f, d, u - d, w - u, w
      }
    }'
fi
