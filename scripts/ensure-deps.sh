#!/usr/bin/env bash
# Installs the npm dependencies when they are missing or older than the lock. `npm install` with the
# committed lock installs exactly the locked tree (and leaves the lock as it is). Not `npm ci`: npm
# 11.19 as configured here rejects the lock in ci mode because it omits the other platforms'
# optional @swc/@unrs binaries.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm install --no-audit --no-fund
fi
