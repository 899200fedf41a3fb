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

# npm_build: Node 20+ and npm, the workspace's packages (from the lock file), then the build.
npm_build() {
  local major=0
  command -v node >/dev/null && major=$(node -p 'process.versions.node.split(".")[0]')
  if [ "$major" -lt 20 ]; then
    apt_install nodejs npm
    major=$(node -p 'process.versions.node.split(".")[0]')
    if [ "$major" -lt 20 ]; then
      echo "fleetban: needs Node.js 20 or newer (found $(node --version))" >&2
      exit 1
    fi
  fi
  command -v npm >/dev/null || apt_install npm
  if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    npm ci --no-audit --no-fund --loglevel=error
  fi
  npm run --silent build >/dev/null
}
