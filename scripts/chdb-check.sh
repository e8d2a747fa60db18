#!/usr/bin/env bash
# Runs outsider's ClickHouse SQL on current ClickHouse (26.x, embedded in
# the npm package chdb) and checks that the reports are byte-identical to
# the in-process engine's, as the Go tests check on Debian's 18.16: the SQL
# must stay within what both versions accept.
#
# It installs chdb (about 550 MB) into a temporary folder (or uses
# CHDB_DIR if it holds node_modules/chdb), puts scripts/chdb/clickhouse-http.mjs
# (ClickHouse's HTTP interface over chDB) on a free port, and runs the real
# 'outsider load' and 'outsider triage --clickhouse' against it: the very
# statements outsider sends, unchanged. Two generated tenants (one with
# its Entra sign-in log and duplicates, one in Purview CSV with its tenant
# id rewritten), whole, --all-tenants, a period and a small evidence cap.
#
# Usage: scripts/chdb-check.sh            (needs node, npm and go)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
work=$(mktemp -d)
shim_pid=
cleanup() {
  if [ -n "$shim_pid" ]; then kill "$shim_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

chdb_dir=${CHDB_DIR:-}
if [ -z "$chdb_dir" ] || [ ! -d "$chdb_dir/node_modules/chdb" ]; then
  chdb_dir=$work/chdb
  mkdir -p "$chdb_dir"
  echo "installing chdb into $chdb_dir (npm)..."
  (cd "$chdb_dir" && npm install --silent --no-audit --no-fund chdb >/dev/null)
fi

go build -o "$work/outsider" ./cmd/outsider
o=$work/outsider
port=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
(cd "$chdb_dir" && exec node "$root/scripts/chdb/clickhouse-http.mjs" "$port" "$work/chdb-data" "$work/statements.log" </dev/null 2>"$work/shim.log") &
shim_pid=$!
dsn=http://127.0.0.1:$port/default
for _ in $(seq 100); do
  curl -sf "http://127.0.0.1:$port/" --data-binary 'SELECT 1' >/dev/null 2>&1 && break
  sleep 0.1
done
echo "ClickHouse $(curl -sS "http://127.0.0.1:$port/" --data-binary 'SELECT version()') (chDB) on port $port"

a=6e4b2c1a-7f3d-4e8b-9a15-3c2d8f0b7e94 # the generator's tenant
b=b2b2b2b2-0000-4000-8000-00000000000b
cd "$work"
"$o" generate --seed 1 --size 4MB --duplicates 9 -o a.jsonl --signin-log a-signins.json
"$o" generate --seed 2 --size 4MB --format purview-csv -o b0.csv
sed "s/$a/$b/g" b0.csv >b.csv

# Records whose UPN and OrganizationId are built to break out of a string
# literal: they must stay data. That OrganizationId is no tenant id, so the
# records belong to no tenant (docs/rules.md): they are in every tenant's
# scope, and the engine reads evil.jsonl with each tenant's files.
node -e '
const evilUPN = "x\u0027 OR 1=1) OR user IN (\u0027a\\\u0027--\t\n;DROP TABLE outsider_events; SELECT \u0027$SCOPE $K@evil.example";
const evilTenant = "t\u0027 OR tenant != \u0027\u0027 OR \u0027\\";
const at = (m) => new Date(Date.UTC(2026, 9, 1, 8, m)).toISOString().slice(0, 19);
let n = 0;
const id = () => "00000000-0000-4000-8000-" + String(++n).padStart(12, "0");
const signin = (m, user, actor, ip) => ({CreationTime: at(m), Id: id(), OrganizationId: evilTenant, RecordType: 15,
  Operation: "UserLoggedIn", UserId: user, ActorContextId: actor, ClientIP: ip, UserType: 0, Workload: "AzureActiveDirectory",
  ApplicationId: "00000003-0000-0ff1-ce00-000000000000", Actor: [{ID: "Unknown", Type: 0}],
  ExtendedProperties: [{Name: "ResultStatusDetail", Value: "Success"}]});
const recs = [signin(0, "bob@contoso.com", "t", "198.51.100.20"), signin(1, evilUPN, "0d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6", "203.0.113.66"),
  {CreationTime: at(2), Id: id(), OrganizationId: evilTenant, RecordType: 6, Operation: "FileModified", Workload: "SharePoint",
   UserId: evilUPN, ClientIP: "203.0.113.66", ObjectId: "https://contoso.sharepoint.com/x.docx"}];
recs[0].Actor = [{ID: "3f2504e0-4f89-41d3-9a0c-0305e82c3301", Type: 0}];
recs[0].ActorContextId = evilTenant;
require("fs").writeFileSync("evil.jsonl", recs.map((r) => JSON.stringify(r)).join("\n") + "\n");
'

"$o" load --init --clickhouse "$dsn" --batch-size 4MB a.jsonl a-signins.json b.csv evil.jsonl

fail=0
check() { # label, engine args..., --, clickhouse args...
  local label=$1
  shift
  local eng=() ch=()
  while [ "$1" != -- ]; do eng+=("$1"); shift; done
  shift
  ch=("$@")
  "$o" triage --format json "${eng[@]}" >engine.json
  "$o" triage --format json --clickhouse "$dsn" "${ch[@]}" >clickhouse.json
  if cmp -s engine.json clickhouse.json; then
    echo "same: $label ($(grep -c '"verdict":' engine.json) identities)"
  else
    echo "DIFFERENT: $label"
    diff engine.json clickhouse.json | head -20
    fail=1
  fi
}
check "tenant A" a.jsonl a-signins.json evil.jsonl --tenant $a -- --tenant $a
check "tenant B" b.csv evil.jsonl --tenant $b -- --tenant $b
check "tenant A, a period" a.jsonl a-signins.json evil.jsonl --tenant $a --since 2026-10-04 --until 2026-10-11T12:00:00Z -- --tenant $a --since 2026-10-04 --until 2026-10-11T12:00:00Z
check "tenant B, 3 evidence" b.csv evil.jsonl --tenant $b --max-evidence 3 -- --tenant $b --max-evidence 3
"$o" triage --format json --clickhouse "$dsn" --all-tenants -o all >/dev/null
"$o" triage --format json a.jsonl a-signins.json evil.jsonl --tenant $a | cmp -s - all/$a.json && echo "same: --all-tenants, A" || { echo "DIFFERENT: --all-tenants, A"; fail=1; }
"$o" triage --format json b.csv evil.jsonl --tenant $b | cmp -s - all/$b.json && echo "same: --all-tenants, B" || { echo "DIFFERENT: --all-tenants, B"; fail=1; }
# The hostile OrganizationId is no tenant: --all-tenants writes A and B only.
[ "$(ls all | wc -l)" = 2 ] && echo "same: the hostile OrganizationId names no tenant" || { echo "DIFFERENT: reports $(ls all)"; fail=1; }

echo "$(sort -u statements.log | grep -vc '^INSERT INTO ext_\|^CREATE TABLE ext_\|^DROP TABLE IF EXISTS ext_') distinct statements ran on $(curl -sS "http://127.0.0.1:$port/" --data-binary 'SELECT version()')"
if [ "$fail" != 0 ]; then
  echo "chdb check: FAILED" >&2
  exit 1
fi
if [ -s shim.log ]; then echo "server log:"; cat shim.log; fi
echo "chdb check: every report byte-identical to the in-process engine"
