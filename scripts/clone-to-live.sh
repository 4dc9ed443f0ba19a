#!/bin/sh
# Time from a clean clone to a live dashboard (README "Dependencies"): clone REPO (at REV) into a
# temporary folder and run `make demo` there — a fresh venv, pip install from
# requirements/runtime.lock, then the demo with its 7-day backfill — until the first 200 from
# GET /api/v1/live. Prints the total and the install's share; removes the folder.
#   sh scripts/clone-to-live.sh [REPO] [REV] [PORT_OFFSET]      (PIP_NO_CACHE_DIR=1: no pip cache)
set -eu
repo=${1:-.}
rev=${2:-HEAD}
offset=${3:-3000}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
port=$((8080 + offset))
now() { date +%s.%N; }
t0=$(now)
git clone -q "$repo" "$dir/clone"
cd "$dir/clone"
git checkout -q "$rev"
make .venv/.runtime >"$dir/install.log" 2>&1
t_install=$(now)
setsid make demo ARGS="--port-offset $offset" >"$dir/demo.log" 2>&1 &
demo=$!
key=""
while kill -0 "$demo" 2>/dev/null; do
    [ -n "$key" ] || key=$(sed -n 's/^  viewer key: \([^ ]*\).*/\1/p' "$dir/demo.log")
    if [ -n "$key" ] && curl -fsS -o /dev/null -H "Authorization: Bearer $key" "http://127.0.0.1:$port/api/v1/live"; then
        t1=$(now)
        echo "$(git rev-parse --short HEAD): clone to a live dashboard $(echo "$t1 - $t0" | bc) s," \
            "of which clone + install $(echo "$t_install - $t0" | bc) s ($(du -sh .venv | cut -f1) in .venv)"
        /bin/kill -TERM -- "-$demo" 2>/dev/null || true  # the demo's own process group (setsid; a background job ignores SIGINT)
        wait "$demo" || true
        exit 0
    fi
    sleep 0.5
done
cat "$dir/demo.log" >&2
echo "the demo stopped before answering" >&2
exit 1
