#!/usr/bin/env bash
# Assembles belay's runtime tree, the whole of what the container image adds
# to its base (Containerfile: the build stage runs this into /rootfs, the
# runtime stage copies /rootfs/ to /). `make image-root` runs the same script
# on the host (.build/image-root), so the image's contents can be tested
# without a container engine (manifests/image/image.test.ts).
#
#   manifests/image/assemble.sh OUT     from the repository root, after tsc and make bundle
#
# OUT/opt/belay: package.json (ES modules), the lock, production node_modules,
# dist/src and dist/webhook (compiled JavaScript, no tests, no source maps),
# the console's static files, and the default bundle (bundle/bundle.tar.gz);
# OUT/usr/local/bin/belay: the CLI (relative symlink to dist/webhook/main.js).
set -euo pipefail
out=${1:?usage: manifests/image/assemble.sh OUT}
bundle=${BELAY_IMAGE_BUNDLE:-.build/bundle.tar.gz}
app=$out/opt/belay

for need in package.json package-lock.json dist/webhook/main.js dist/src "$bundle" webhook/console/static/index.html; do
  [ -e "$need" ] || { echo "manifests/image/assemble.sh: $need is missing (run from the repository root after make build bundle)" >&2; exit 2; }
done

rm -rf "$out"
mkdir -p "$out"
out=$(cd "$out" && pwd)
app=$out/opt/belay
mkdir -p "$app/dist" "$app/bundle" "$app/webhook/console/static" "$out/usr/local/bin"
cp package.json package-lock.json "$app/"
# Production dependencies only, exactly as locked; no install scripts run.
(cd "$app" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null)
rm -rf "$app/node_modules/.cache"
(cd dist && find src webhook -type f -name '*.js' ! -name '*.test.js' -print0 | xargs -0 cp --parents -t "$app/dist")
cp webhook/console/static/index.html webhook/console/static/console.js webhook/console/static/console.css \
  webhook/console/static/favicon.svg "$app/webhook/console/static/"
cp "$bundle" "$app/bundle/bundle.tar.gz"
chmod 0755 "$app/dist/webhook/main.js"
ln -s ../../../opt/belay/dist/webhook/main.js "$out/usr/local/bin/belay"
# Readable by everyone, writable by no one but root: the image runs as 65532.
chmod -R u+rwX,go+rX,go-w "$out"
