#!/usr/bin/env bash
# Builds fleetban_<version>_<arch>.deb from this checkout (docs/install.md):
#   bash deploy/deb/build.sh [OUTDIR]          Node.js 20 inside the package (Debian 12 and 13)
#   FLEETBAN_NODE=system bash deploy/deb/build.sh   Depends: nodejs (>= 20) instead (Debian 13)
# Installs under /usr/lib/fleetban (the built packages, their production npm dependencies from the
# lock file, and the Node.js binary), /usr/bin/fleetban, the hardened systemd units, and
# /etc/fleetban with the commented default configuration. Needs root only to install what the
# build lacks (Node.js 20, npm).
set -euo pipefail
cd "$(dirname "$0")/../.."
source deploy/lib.sh

out=$(realpath -m "${1:-dist-deb}")
node_mode=${FLEETBAN_NODE:-bundled}
case "$node_mode" in bundled|system) ;; *) echo "fleetban: FLEETBAN_NODE is bundled or system, not $node_mode" >&2; exit 2 ;; esac
npm_build

version=$(node -p 'require("./packages/cli/package.json").version')
arch=$(dpkg --print-architecture)
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
lib=$stage/usr/lib/fleetban

# the application: built packages and their production dependencies, as the lock file pins them
mkdir -p "$lib"
cp package.json package-lock.json "$lib/"
for p in shared agent controller cli; do
  mkdir -p "$lib/packages/$p"
  cp -a "packages/$p/package.json" "packages/$p/dist" "$lib/packages/$p/"
done
cp -a packages/agent/filter.d "$lib/packages/agent/"
(cd "$lib" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error)
find "$lib" \( -name '*.d.ts' -o -name '*.d.ts.map' -o -name '*.js.map' -o -name '*.tsbuildinfo' \) -delete
rm -f "$lib/node_modules/.package-lock.json"

# the Node.js it runs on
if [ "$node_mode" = bundled ]; then
  fetch_node20
  install -D -m 755 deploy/node-runtime/bin/node "$lib/node/bin/node"
  install -D -m 644 deploy/node-runtime/LICENSE "$stage/usr/share/doc/fleetban/node-LICENSE"
  node_bin=/usr/lib/fleetban/node/bin/node
  node_dep=''
else
  node_bin=/usr/bin/node
  node_dep=', nodejs (>= 20)'
fi
install -d "$stage/usr/bin"
# `fleetban agent` and `fleetban controller` (the systemd units' ExecStart) run with the V8 flags of
# deploy/agent-node-flags and deploy/controller-node-flags, the controller also with the malloc
# settings of deploy/controller-glibc-tunables; each file says why and what it costs; every other
# command runs with node's defaults
agent_flags=$(grep -v '^#' deploy/agent-node-flags | tr -s ' \n' ' ' | sed 's/ *$//')
controller_flags=$(grep -v '^#' deploy/controller-node-flags | tr -s ' \n' ' ' | sed 's/ *$//')
controller_tunables=$(grep -v '^#' deploy/controller-glibc-tunables | grep -v '^ *$' | paste -sd: -)
cat > "$stage/usr/bin/fleetban" <<SH
#!/bin/sh
# the agent's and the controller's V8 flags (a small young generation) and the controller's malloc settings: memory; see /usr/share/doc/fleetban/docs/benchmarks.md
if [ "\$1" = agent ]; then exec $node_bin $agent_flags /usr/lib/fleetban/packages/cli/dist/main.js "\$@"; fi
if [ "\$1" = controller ]; then export GLIBC_TUNABLES="$controller_tunables\${GLIBC_TUNABLES:+:\$GLIBC_TUNABLES}"; exec $node_bin $controller_flags /usr/lib/fleetban/packages/cli/dist/main.js "\$@"; fi
exec $node_bin /usr/lib/fleetban/packages/cli/dist/main.js "\$@"
SH
chmod 755 "$stage/usr/bin/fleetban"

# units, configuration, documentation
install -D -m 644 -t "$stage/lib/systemd/system" deploy/systemd/*.service
install -D -m 644 deploy/tmpfiles/fleetban.conf "$stage/usr/lib/tmpfiles.d/fleetban.conf"
install -D -m 644 deploy/fleetban.conf "$stage/etc/fleetban/fleetban.conf"
install -D -m 644 deploy/nats-server.conf "$stage/etc/fleetban/nats-server.conf"
install -D -m 644 -t "$stage/usr/share/doc/fleetban" README.md
cp -a docs "$stage/usr/share/doc/fleetban/"
install -D -m 644 deploy/grafana/fleetban.json "$stage/usr/share/fleetban/grafana/fleetban.json"

# package metadata
install -d "$stage/DEBIAN"
printf '/etc/fleetban/fleetban.conf\n/etc/fleetban/nats-server.conf\n' > "$stage/DEBIAN/conffiles"
install -m 755 deploy/deb/postinst deploy/deb/postrm "$stage/DEBIAN/"
size=$(du -sk --exclude=DEBIAN "$stage" | cut -f1)
cat > "$stage/DEBIAN/control" <<CONTROL
Package: fleetban
Version: $version
Architecture: $arch
Maintainer: fleetban <fleetban@localhost>
Installed-Size: $size
Depends: adduser, nftables, iproute2$node_dep
Recommends: nats-server, ipset, iptables
Section: net
Priority: optional
Description: fail2ban for a fleet
 Agents read each host's logs with fail2ban's filters and report failures over
 NATS; a controller counts them across the fleet with fail2ban's thresholds and
 bans; every agent enforces the fleet's ban list in nftables or iptables.
CONTROL

mkdir -p "$out"
deb="$out/fleetban_${version}_${arch}.deb"
dpkg-deb --root-owner-group -Zxz --build "$stage" "$deb" >/dev/null
echo "$deb"
