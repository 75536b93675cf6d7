#!/usr/bin/env bash
# make mcp-tools: the MCP conformance suite (@modelcontextprotocol/conformance)
# and the Node.js 22 it needs (npm's `node` package, which brings its own
# binary and leaves the system's Node alone), pinned, into
# .tools/mcp-conformance with a version stamp; a second run costs nothing.
#
#   MCP_CONFORMANCE_VERSION (0.1.16)   MCP_NODE_VERSION (22.23.3)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
conformance=${MCP_CONFORMANCE_VERSION:-0.1.16}
node_version=${MCP_NODE_VERSION:-22.23.3}
dir=$root/.tools/mcp-conformance
want="conformance $conformance node $node_version"

if [ "$(cat "$dir/.version" 2>/dev/null)" = "$want" ]; then exit 0; fi
echo "installing @modelcontextprotocol/conformance@$conformance and node@$node_version into $dir (npm; first time only)"
tmp=$dir.tmp.$$
rm -rf "$tmp"
mkdir -p "$tmp"
trap 'rm -rf "$tmp"' EXIT
echo '{"name": "belay-mcp-conformance", "private": true}' > "$tmp/package.json"
(cd "$tmp" && npm install --no-audit --no-fund --no-package-lock --save-exact \
  "@modelcontextprotocol/conformance@$conformance" "node@$node_version" >/dev/null)
got=$("$tmp/node_modules/.bin/node" --version)
[ "$got" = "v$node_version" ] || { echo "mcp-tools: expected node v$node_version, got $got" >&2; exit 1; }
"$tmp/node_modules/.bin/node" "$tmp/node_modules/@modelcontextprotocol/conformance/dist/index.js" --help >/dev/null
echo "$want" > "$tmp/.version"
rm -rf "$dir"
mv "$tmp" "$dir"
trap - EXIT
echo "mcp-tools: $want"
