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

# use_node20: makes a Node.js 20 or newer the `node` on PATH. The system's when it is new enough
# (Debian 13: nodejs 20 from apt); else (Debian 12 has only nodejs 18, also in its backports) the
# node binary of the registry package pinned, with its checksum, by deploy/node-runtime's lock file,
# fetched with Debian's npm. Why: docs/install.md.
use_node20() {
  local runtime="$PWD/deploy/node-runtime"
  if [ -x "$runtime/node_modules/.bin/node" ]; then export PATH="$runtime/node_modules/.bin:$PATH"; fi
  if [ "$(node_major)" -lt 20 ]; then
    command -v node >/dev/null || apt_install nodejs
    command -v npm >/dev/null || apt_install npm
    if [ "$(node_major)" -lt 20 ]; then
      echo "fleetban: Node.js $(node --version) is too old; fetching Node.js 20 (deploy/node-runtime)"
      (cd "$runtime" && npm ci --no-audit --no-fund --loglevel=error)
      export PATH="$runtime/node_modules/.bin:$PATH"
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

# install_command: /usr/local/bin/fleetban, running this checkout's CLI on the Node.js found above.
install_command() {
  cat > /usr/local/bin/fleetban <<SH
#!/bin/sh
exec "$(command -v node)" "$PWD/packages/cli/dist/main.js" "\$@"
SH
  chmod 755 /usr/local/bin/fleetban
}
