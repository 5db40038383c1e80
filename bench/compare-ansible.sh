#!/usr/bin/env bash
# Peer comparison: runbook vs Ansible on N no-op steps (not part of CI).
#
# Usage: bench/compare-ansible.sh [REPETITIONS]   (default 7)
#
# Installs ansible-core into a temporary Python virtual environment, generates
# N = 100 and N = 1000 no-op steps for both tools, and times whole processes
# (wall clock, median of REPETITIONS runs):
#   check:   ansible-playbook --syntax-check    vs  runbook check
#   execute: ansible-playbook (localhost, connection: local)
#                                               vs  runbook run --yes --format json
#                                                   (default in-process sim target)
# The no-op step: in Ansible, a task `ansible.builtin.meta: noop` (handled
# inside the controller, no module shipped or forked: the cheapest task
# Ansible has, so the comparison favours Ansible) with gather_facts off, and
# also `ansible.builtin.debug` (prints a message: what a `note` does); in
# runbook, a `step` whose body is one `note` (printed as an event, journaled:
# the journal is fsync'd record by record, so execution is also shown with
# the journal on tmpfs to separate the engine from the disk).
set -euo pipefail

REPETITIONS="${1:-7}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

echo "== building runbook (release)" >&2
cargo build --release --quiet --manifest-path "$ROOT/Cargo.toml"
RUNBOOK="$ROOT/target/release/runbook"

echo "== installing ansible-core into a temporary venv" >&2
python3 -m venv "$WORK/venv"
"$WORK/venv/bin/pip" install --quiet --disable-pip-version-check ansible-core
ANSIBLE="$WORK/venv/bin/ansible-playbook"
export ANSIBLE_NOCOWS=1 ANSIBLE_RETRY_FILES_ENABLED=0 ANSIBLE_LOCALHOST_WARNING=0 \
       ANSIBLE_INVENTORY_UNPARSED_WARNING=0 ANSIBLE_HOME="$WORK/ansible-home"

generate() { # N -> writes $WORK/noop-N.yml and $WORK/noop-N.runbook
    local n="$1" i
    {
        echo "- hosts: localhost"
        echo "  connection: local"
        echo "  gather_facts: false"
        echo "  tasks:"
        for ((i = 1; i <= n; i++)); do
            echo "    - name: step $i"
            echo "      ansible.builtin.meta: noop"
        done
    } > "$WORK/noop-$n.yml"
    # The closest equivalent of a `note`: a task that prints a message.
    sed -e 's/ansible.builtin.meta: noop/ansible.builtin.debug: { msg: "step" }/' \
        "$WORK/noop-$n.yml" > "$WORK/debug-$n.yml"
    {
        echo "runbook noop-$n {"
        echo "    title \"$n no-op steps\""
        for ((i = 1; i <= n; i++)); do
            echo "    step $i s$i \"Step $i\" {"
            echo "        note \"step $i\""
            echo "    }"
        done
        echo "}"
    } > "$WORK/noop-$n.runbook"
}

# median_ms CMD... : runs CMD $REPETITIONS times (output discarded), prints
# the median wall time in milliseconds.
median_ms() {
    local times=() i start end
    for ((i = 0; i < REPETITIONS; i++)); do
        start=$(date +%s%N)
        "$@" > /dev/null 2>&1 || { echo "command failed: $*" >&2; "$@" >&2 || true; exit 1; }
        end=$(date +%s%N)
        times+=($(((end - start) / 1000)))
    done
    printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.1f", m/1000}'
}

# A fresh journal each run (an existing journal is never overwritten).
runbook_run() {
    rm -f "$WORK/noop-$1.journal"
    "$RUNBOOK" run "$WORK/noop-$1.runbook" --yes --format json --journal "$WORK/noop-$1.journal"
}

# The same with the journal on tmpfs, where fsync costs nothing: isolates
# the engine from the journal's durability (one fsync per record).
runbook_run_tmpfs() {
    local journal="/dev/shm/runbook-compare-$$-$1.journal"
    rm -f "$journal"
    "$RUNBOOK" run "$WORK/noop-$1.runbook" --yes --format json --journal "$journal"
    rm -f "$journal"
}

echo "machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p')" >&2
echo "ansible: $("$ANSIBLE" --version | head -1); runbook: $("$RUNBOOK" --version)"
echo "repetitions: $REPETITIONS (medians, whole processes, wall clock)"
ratio() { echo "$1 / $2" | bc -l | xargs printf '%.0fx'; }
printf '%-6s %-34s %12s %12s %8s\n' "N" "what (ansible vs runbook)" "ansible ms" "runbook ms" "ratio"
for n in 100 1000; do
    generate "$n"
    a=$(median_ms "$ANSIBLE" --syntax-check -i localhost, "$WORK/noop-$n.yml")
    r=$(median_ms "$RUNBOOK" check "$WORK/noop-$n.runbook")
    printf '%-6s %-34s %12s %12s %8s\n' "$n" "check: --syntax-check vs check" "$a" "$r" "$(ratio "$a" "$r")"
    noop=$(median_ms "$ANSIBLE" -i localhost, "$WORK/noop-$n.yml")
    debug=$(median_ms "$ANSIBLE" -i localhost, "$WORK/debug-$n.yml")
    disk=$(median_ms runbook_run "$n")
    printf '%-6s %-34s %12s %12s %8s\n' "$n" "run: meta noop vs note, journal" "$noop" "$disk" "$(ratio "$noop" "$disk")"
    printf '%-6s %-34s %12s %12s %8s\n' "$n" "run: debug vs note, journal" "$debug" "$disk" "$(ratio "$debug" "$disk")"
    if [ -d /dev/shm ]; then
        tmpfs=$(median_ms runbook_run_tmpfs "$n")
        printf '%-6s %-34s %12s %12s %8s\n' "$n" "run: meta noop vs note, tmpfs jnl" "$noop" "$tmpfs" "$(ratio "$noop" "$tmpfs")"
        printf '%-6s %-34s %12s %12s %8s\n' "$n" "run: debug vs note, tmpfs jnl" "$debug" "$tmpfs" "$(ratio "$debug" "$tmpfs")"
    fi
done
