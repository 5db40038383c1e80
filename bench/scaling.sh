#!/usr/bin/env bash
# Prints how cost grows with runbook size (1 KB → 10 MB: parse, check, fmt)
# and cluster size (3 → 50 servers: a simulated downtime upgrade as a whole
# process; verify for the sizes in RUNBOOK_SCALING_VERIFY, default "3,5,10,20").
# Release build. Usage: bench/scaling.sh [runbook-size|cluster-size]
set -euo pipefail
cd "$(dirname "$0")/.."
cargo bench --quiet --bench scaling -- "$@"
