#!/usr/bin/env bash
# Runs one of the project's TypeScript entry points on a supported Node with the dependencies installed.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
bash scripts/ensure-deps.sh >&2
exec node --require @swc-node/register "$@"
