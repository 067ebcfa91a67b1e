#!/usr/bin/env bash
# deploy/cluster.sh down: stops every process deploy/cluster-up.sh started (SIGTERM), then the
# broker it started. Safe to re-run.
case "${1:-}" in -h|--help) sed -n '2,3p' "$0" | sed 's/^# //'; exit 0 ;; esac
exec "$(dirname "${BASH_SOURCE[0]}")/cluster.sh" down
