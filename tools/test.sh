#!/usr/bin/env bash
# Installs what quotad needs, builds it, and runs the whole test suite:
# unit tests (GoogleTest, through ctest), then the end-to-end tests and the
# Python client's tests (pytest), which start real quotad processes.
set -euo pipefail
cd "$(dirname "$0")/.."
./tools/install-deps.sh
./tools/build.sh
ctest --test-dir build --output-on-failure -j2
# Debian's interpreter: it has python3-pytest and python3-flask. Each suite
# has its own conftest, so each runs on its own.
/usr/bin/python3 -m pytest -q -p no:cacheprovider tests/e2e
/usr/bin/python3 -m pytest -q -p no:cacheprovider clients/python/tests
