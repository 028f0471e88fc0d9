#!/usr/bin/env bash
# Installs the Debian 12 packages quotad needs to build, test and benchmark.
# Safe to run again: apt-get skips what is already installed.
set -euo pipefail
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends \
  build-essential cmake ninja-build pkg-config \
  libcaf-dev librocksdb-dev libboost1.81-dev libboost-json1.81-dev \
  libhowardhinnant-date-dev tzdata libspdlog-dev libfmt-dev \
  libgtest-dev libgmock-dev libbenchmark-dev \
  curl wrk nginx-light \
  python3 python3-pytest python3-flask python3-psycopg2 postgresql sqlite3
