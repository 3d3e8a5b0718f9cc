#!/usr/bin/env bash
# Install bench/portkey/node_modules: Portkey's open-source gateway (npm @portkey-ai/gateway), for
# side-by-side benchmarks only (the `portkey` gateway in bench/gateways.py). Needs Node 20+ and npm.
#
# Everything is pinned by package-lock.json (every package with its integrity hash). package.json pins
# the gateway at 1.15.2 and its direct dependencies at the versions of the gateway's own v1.15.2
# package-lock.json (github.com/Portkey-AI/gateway, tag v1.15.2; the npm tarball ships none): a plain
# `npm install @portkey-ai/gateway@1.15.2` takes a newer @hono/node-server than the 1.13.5 it was
# released with, and every streamed response then fails with a 500.
# Install scripts are not run: the only one is the gateway's `patch-package` postinstall, and the npm
# tarball ships no patches for it to apply.
#
# Usage: bash bench/portkey/setup.sh
set -euo pipefail
cd "$(dirname "$0")"

npm ci --ignore-scripts --no-audit --no-fund
version="$(node -p 'require("./node_modules/@portkey-ai/gateway/package.json").version')"
hono_server="$(node -p 'require("./node_modules/@hono/node-server/package.json").version')"
echo "@portkey-ai/gateway ${version} with @hono/node-server ${hono_server} in $(pwd)/node_modules"
