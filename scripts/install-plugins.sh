#!/usr/bin/env bash
# Installs the resource plugins a stack's program uses, at the versions its SDKs ask for (package.json
# pins the SDKs; each SDK names its plugin version): the deploy workflows run with automatic plugin
# acquisition off, so that an `up` never fetches a plugin nobody reviewed. Usage: install-plugins.sh <stack>
set -euo pipefail
cd "$(dirname "$0")/.."
stack="${1:?usage: install-plugins.sh <stack>}"
plugins=(kubernetes random docker)
# prod keeps its buckets and IAM in AWS.
[ "$stack" = prod ] && plugins+=(aws)
for p in "${plugins[@]}"; do
  version=$(node -p "const m = require('@pulumi/$p/package.json'); (m.pulumi && m.pulumi.version) || m.version")
  echo "plugin $p v$version"
  pulumi plugin install resource "$p" "v$version"
done
