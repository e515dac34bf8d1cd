#!/usr/bin/env bash
# `npm run demo`: works on a fresh clone (installs what is missing first), see scripts/demo.ts.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
bash scripts/ensure-deps.sh
exec node --require @swc-node/register scripts/demo.ts "$@"
