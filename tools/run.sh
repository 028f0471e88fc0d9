#!/usr/bin/env bash
# Installs what quotad needs, builds it, and runs a single node with the
# embedded defaults (HTTP on 127.0.0.1:8080, data in ./data). Extra
# arguments go to quotad, e.g. ./tools/run.sh --config=configs/quotad.conf
set -euo pipefail
cd "$(dirname "$0")/.."
./tools/install-deps.sh
./tools/build.sh
exec ./build/quotad "$@"
