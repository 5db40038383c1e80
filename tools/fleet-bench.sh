#!/usr/bin/env bash
# How far one `runbook fleet` process goes: N simulated clusters (one
# `runbook sim serve` process each: a sim serve hosts one cluster), each
# reached through its own inventory (console operations by curl), upgraded
# by one `runbook fleet run` with --parallel P. Prints the fleet's wall
# time and peak RSS (`/usr/bin/time -v`), and checks every cluster's end
# state on its simulator.
#
# Not part of `cargo test`. Build first, then:
#   cargo build --release
#   tools/fleet-bench.sh            # 50 clusters, all at once, speed 600
#   tools/fleet-bench.sh 20 6000 5  # 20 clusters, speed 6000, 5 at a time
# RUNBOOK=path/to/runbook overrides the binary (default target/release/runbook,
# or $CARGO_TARGET_DIR/release/runbook). Needs curl and GNU time.
set -euo pipefail

clusters=${1:-50}
speed=${2:-600}
parallel=${3:-$clusters}
target_dir=${CARGO_TARGET_DIR:-target}
bin=$(realpath "${RUNBOOK:-$target_dir/release/runbook}")
[ -x "$bin" ] || { echo "no binary at $bin: cargo build --release first" >&2; exit 2; }
command -v curl >/dev/null || { echo "curl is needed" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "GNU time (/usr/bin/time) is needed" >&2; exit 2; }

work=$(mktemp -d)
key=fleet-bench-key-0123456789abcdef
export RUNBOOK_SIM_API_KEY=$key RUNBOOK_API_KEY=$key RUNBOOK_LOCK_DIR=$work/locks
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

echo "starting $clusters sim serve processes (speed ${speed}x) in $work"
for i in $(seq 1 "$clusters"); do
    mkdir -p "$work/c$i"
    "$bin" sim serve --addr 127.0.0.1:0 --speed "$speed" --state "$work/c$i/cluster.json" \
        >"$work/c$i/serve.log" 2>&1 &
    pids+=($!)
done
{
    echo '[defaults]'
    echo 'set = { version = "7.4.0" }'
    echo
} >"$work/fleet.toml"
for i in $(seq 1 "$clusters"); do
    until grep -q '^listening on ' "$work/c$i/serve.log"; do sleep 0.05; done
    url=$(sed -n 's/^listening on //p' "$work/c$i/serve.log")
    echo "$url" >"$work/c$i/url"
    console() {
        printf '["curl", "-sf", "-X", "POST", "-H", "Authorization: Bearer %s", "%s/sim/console/{server}/%s"]' \
            "$key" "$url" "$1"
    }
    {
        printf '[api]\nurl = "%s"\napi_key_env = "RUNBOOK_API_KEY"\npoll_interval = "200ms"\n\n' "$url"
        for server in mgt-1 mgt-2 mgt-3; do
            printf '[[servers]]\nname = "%s"\nhost = "%s"\napi = "%s/servers/%s"\n\n' \
                "$server" "$server" "$url" "$server"
        done
        printf '[console]\ntimeout = "10m"\n'
        printf 'stop = %s\n' "$(console stop)"
        printf 'start = %s\n' "$(console start)"
        printf 'upgrade = %s\n' "$(console 'upgrade?version={version}')"
        printf 'backup = %s\n' "$(console backup)"
        printf 'restore = %s\n' "$(console restore)"
        printf 'stop_replication = %s\n' "$(console stop_replication)"
    } >"$work/c$i/inventory.toml"
    printf '[[clusters]]\nname = "cluster-%02d"\ninventory = "c%d/inventory.toml"\n\n' "$i" "$i" >>"$work/fleet.toml"
done

echo "runbook fleet run upgrade-with-downtime fleet.toml --parallel $parallel --yes --accept-data-loss --json"
cd "$work"
/usr/bin/time -v "$bin" fleet run upgrade-with-downtime fleet.toml \
    --parallel "$parallel" --yes --accept-data-loss --json >result.json 2>time.txt &
timer=$!
# The fleet's open file descriptors, sampled while it runs.
peak_fds=0
while kill -0 "$timer" 2>/dev/null; do
    for fleet in $(pgrep -P "$timer"); do
        fds=$(ls "/proc/$fleet/fd" 2>/dev/null | wc -l)
        [ "$fds" -gt "$peak_fds" ] && peak_fds=$fds
    done
    sleep 0.05
done
status=0
wait "$timer" || status=$?
cd - >/dev/null

succeeded=$(grep -c '"state": "succeeded"' "$work/result.json" || true)
upgraded=0
for i in $(seq 1 "$clusters"); do
    state=$(curl -sf -H "Authorization: Bearer $key" "$(cat "$work/c$i/url")/sim/cluster")
    if ! grep -q '7\.3\.4' <<<"$state"; then upgraded=$((upgraded + 1)); fi
done
echo "exit code: $status; clusters succeeded: $succeeded of $clusters; every server on 7.4.0 (read from the simulators): $upgraded of $clusters"
echo "peak open file descriptors of the fleet process (sampled): $peak_fds"
grep -E 'Elapsed \(wall clock\)|Maximum resident set size|Percent of CPU|User time|System time' "$work/time.txt"
[ "$status" = 0 ] && [ "$upgraded" = "$clusters" ]
