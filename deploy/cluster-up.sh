#!/usr/bin/env bash
# deploy/cluster.sh up: several collections-server processes of one deployment on this
# machine (deploy/cluster.sh --help says everything, including kill, start, add and status).
#
#   deploy/cluster-up.sh [--processes N] [--detach] [--no-build]
#                        [--bootstrap HOSTS [--kafka-config FILE] | --kafka-cluster] [-- FLAGS]
case "${1:-}" in -h|--help) exec "$(dirname "${BASH_SOURCE[0]}")/cluster.sh" --help ;; esac
exec "$(dirname "${BASH_SOURCE[0]}")/cluster.sh" up "$@"
