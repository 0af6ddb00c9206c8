#!/usr/bin/env bash
# A two-node Ray cluster on loopback scores and fits a demo world through --ray-address,
# and the results must match the local engine's (sentiment within 0.02 per text, p_churn
# within 0.01 per account; both are printed with the aspect and channel comparisons).
#
#   bash scripts/ray_two_node_check.sh            # ACCOUNTS=200 MONTHS=24 RAY_PORT=6390
#
# Both nodes run this checkout's .venv (each `ray start` is that python), one CPU each, with
# token authentication (a token of this run, RAY_AUTH_TOKEN_PATH, as on a real cluster) and
# a Ray temp dir of this run. The cluster is stopped at the end, also when a step fails:
# the processes of this run's temp dir, by id (`ray stop --force` would also end every
# other Ray instance on the machine). Uses the served int8 model cached under
# UNDERTOW_DATA_DIR (default .undertow/; built on first use).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=$PWD/.venv/bin/python
UT=$PWD/.venv/bin/undertow
PORT=${RAY_PORT:-6390}
ACCOUNTS=${ACCOUNTS:-200}
MONTHS=${MONTHS:-24}
export HF_HUB_OFFLINE=1 UNDERTOW_DATA_DIR=${UNDERTOW_DATA_DIR:-$PWD/.undertow}
unset UNDERTOW_RAY_ADDRESS
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ut2n.XXXXXX")  # short: Ray's socket paths live under it
ray_cli() { "$PY" -m ray.scripts.scripts "$@"; }
cleanup() {
  local pids
  pids=$(ps -eo pid=,args= | awk -v dir="$WORK/ray" 'index($0, dir) && !/awk/ {print $1}')
  [ -n "$pids" ] && kill -9 $pids 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
"$PY" -c "import secrets; print(secrets.token_hex(32))" >"$WORK/auth_token"
export RAY_AUTH_MODE=token RAY_AUTH_TOKEN_PATH="$WORK/auth_token"
export RAY_worker_niceness=0  # workers at the driver's priority (Ray's default nice 15 starves on a shared box)

echo "== two-node Ray cluster on 127.0.0.1:$PORT (load $(cut -d' ' -f1 /proc/loadavg))"
ray_cli start --head --port="$PORT" --num-cpus=1 --include-dashboard=false \
  --disable-usage-stats --temp-dir="$WORK/ray" >"$WORK/head.log" 2>&1 || { cat "$WORK/head.log"; exit 1; }
ray_cli start --address="127.0.0.1:$PORT" --num-cpus=1 --disable-usage-stats \
  --temp-dir="$WORK/ray" >"$WORK/worker.log" 2>&1 || { cat "$WORK/worker.log"; exit 1; }
"$PY" - "$PORT" <<'EOF'
import sys, time
import ray
ray.init(address=f"127.0.0.1:{sys.argv[1]}", log_to_driver=False, logging_level="ERROR")
for _ in range(60):
    alive = [n for n in ray.nodes() if n["Alive"]]
    if len(alive) == 2:
        break
    time.sleep(0.5)
print(f"nodes alive: {len(alive)}, CPUs: {ray.cluster_resources().get('CPU')}")
ray.shutdown()
sys.exit(0 if len(alive) == 2 else 1)
EOF

echo "== demo world: $ACCOUNTS accounts x $MONTHS months"
"$UT" demo --out "$WORK/world" --accounts "$ACCOUNTS" --months "$MONTHS" --seed 11 \
  --end 2026-06-30 2>/dev/null >/dev/null
for store in local cluster; do
  export UNDERTOW_DATABASE_URL="sqlite:///$WORK/$store.db"
  for kind in accounts opportunities reviews tickets surveys attribution; do
    "$UT" ingest "$kind" "$WORK/world/$kind.csv" >/dev/null 2>&1
  done
done

echo "== local engine"
export UNDERTOW_DATABASE_URL="sqlite:///$WORK/local.db"
/usr/bin/time -f "   score: %e s wall" "$UT" score --json >"$WORK/local-score.json" 2>"$WORK/local.err" \
  || { cat "$WORK/local.err"; exit 1; }
"$UT" fit --json >"$WORK/local-fit.json" 2>/dev/null
"$UT" export churn-risk --format json --horizon-days 180 --out "$WORK/local-feed.json" 2>/dev/null

echo "== Ray engine through --ray-address 127.0.0.1:$PORT"
export UNDERTOW_DATABASE_URL="sqlite:///$WORK/cluster.db"
/usr/bin/time -f "   score: %e s wall" "$UT" score --engine ray --ray-address "127.0.0.1:$PORT" \
  --json >"$WORK/cluster-score.json" 2>"$WORK/cluster.err" || { cat "$WORK/cluster.err"; exit 1; }
"$UT" fit --engine ray --ray-address "127.0.0.1:$PORT" --json >"$WORK/cluster-fit.json" 2>/dev/null
"$UT" export churn-risk --format json --horizon-days 180 --out "$WORK/cluster-feed.json" 2>/dev/null

echo "== comparison"
"$PY" - "$WORK" <<'EOF'
import json, sqlite3, sys
from pathlib import Path

work = Path(sys.argv[1])
a, b = (sqlite3.connect(work / f"{s}.db") for s in ("local", "cluster"))

def one(conn, sql):
    return {tuple(r[:-1]): r[-1] for r in conn.execute(sql)}

score = {s: json.loads((work / f"{s}-score.json").read_text()) for s in ("local", "cluster")}
for s, r in score.items():
    print(f"{s}: {r['scored']} texts scored at {r['texts_per_second']} texts/s ({r['engine']}, "
          f"{r['workers']} worker(s)); aspects of {r['aspects']['tagged']} texts at "
          f"{r['aspects']['texts_per_second']} texts/s")
sa, sb = (one(c, "SELECT text_hash, sentiment FROM sentiment_scores") for c in (a, b))
assert sa.keys() == sb.keys(), "the engines scored different texts"
sent = max(abs(sa[k] - sb[k]) for k in sa)
print(f"sentiment: {len(sa)} texts, max |diff| {sent:.4f}, identical {sum(sa[k] == sb[k] for k in sa)}")
q = "SELECT text_hash, aspect, sentiment FROM aspect_scores"
qa, qb = one(a, q), one(b, q)
asp = max((abs(qa[k] - qb[k]) for k in qa if qa[k] is not None and qb.get(k) is not None), default=0)
print(f"aspects: {len(qa)} vs {len(qb)} rows, same tags {qa.keys() == qb.keys()}, "
      f"aspect sentiment max |diff| {asp:.4f}")
c = "SELECT document_id, channel, weight, method FROM channel_labels ORDER BY 1, 2"
print(f"channels: {len(list(a.execute(c)))} labels, identical {list(a.execute(c)) == list(b.execute(c))}")
fa, fb = (
    {r["account_id"]: r["p_churn"] for r in json.loads((work / f"{s}-feed.json").read_text())}
    for s in ("local", "cluster")
)
assert fa.keys() == fb.keys(), "the feeds cover different accounts"
churn = max(abs(fa[k] - fb[k]) for k in fa)
fits = {s: json.loads((work / f"{s}-fit.json").read_text()) for s in ("local", "cluster")}
same_model = fits["local"]["model_version"] == fits["cluster"]["model_version"]
print(f"churn feed: {len(fa)} accounts, p_churn (180 d) max |diff| {churn:.6f}; "
      f"same model version {same_model}; back-test origins {fits['cluster']['backtest_origins']}")
ok = sent <= 0.02 and churn <= 0.01
print("RESULT:", "match" if ok else "MISMATCH")
sys.exit(0 if ok else 1)
EOF
