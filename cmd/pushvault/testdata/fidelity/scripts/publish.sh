#!/usr/bin/env bash
# Publish the SDK packages to the npm registry.
set -euo pipefail

cd "$(dirname "$0")/.."

export NPM_TOKEN=@@NPM@@
VERSION="$(node -p 'require("./package.json").version')"

for pkg in packages/*; do
  echo "publishing ${pkg} ${VERSION}"
  (cd "$pkg" && npm publish --access public)
done
