#!/bin/sh
# Time from a clean clone to a live dashboard (README "Dependencies"): clone REPO into a temporary
# folder, run `make demo` there (a fresh venv, pip install from requirements/runtime.lock, the demo
# with its 7-day backfill), and wait for the first 200 from GET /api/v1/live. Prints the seconds.
#   sh scripts/clone-to-live.sh [REPO] [PORT_OFFSET]      (PIP_NO_CACHE_DIR=1: no pip cache)
set -eu
repo=${1:-.}
offset=${2:-3000}
dir=$(mktemp -d)
port=$((8080 + offset))
t0=$(date +%s.%N)
git clone -q "$repo" "$dir/clone"
cd "$dir/clone"
setsid make demo ARGS="--port-offset $offset" >"$dir/demo.log" 2>&1 &
demo=$!
key=""
while kill -0 "$demo" 2>/dev/null; do
    [ -n "$key" ] || key=$(sed -n 's/^  viewer key: \([^ ]*\).*/\1/p' "$dir/demo.log")
    if [ -n "$key" ] && curl -fsS -o /dev/null -H "Authorization: Bearer $key" "http://127.0.0.1:$port/api/v1/live"; then
        t1=$(date +%s.%N)
        echo "clone to a live dashboard: $(echo "$t1 - $t0" | bc) s (pip: $(du -sh .venv | cut -f1) in .venv; log $dir/demo.log)"
        kill -INT -- "-$demo" 2>/dev/null || true  # the demo's own process group (setsid)
        wait "$demo" || true
        exit 0
    fi
    sleep 0.5
done
echo "the demo stopped before answering: $dir/demo.log" >&2
exit 1
