#!/usr/bin/env bash
# Installs and builds what Foresight needs, idempotently (fast when everything is there):
#   npm packages (npm ci), libxgboost (Debian's libxgboost0), the Temporal CLI (go install, v1.5.1), Chromium for the
#   console's browser tests (Debian's chromium), the build, and the web console's build (vite, into console/dist).
# Called by `npm run demo`, `npm test` and .ci/run, so a fresh clone needs nothing else.
set -euo pipefail
cd "$(dirname "$0")/.."
say() { echo "[setup] $*" >&2; }
die() { echo "[setup] ERROR: $*" >&2; exit 1; }
started=$(date +%s)

# 1. npm packages: only when the lock file changed since the last install.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  command -v npm >/dev/null || die "npm is missing: install Node.js 20 (https://nodejs.org) first"
  say "installing npm packages (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
fi

# 2. libxgboost: XGBOOST_LIBRARY_PATH, else the system library path, else Debian's package.
if [ -n "${XGBOOST_LIBRARY_PATH:-}" ]; then
  [ -f "$XGBOOST_LIBRARY_PATH" ] || die "XGBOOST_LIBRARY_PATH=$XGBOOST_LIBRARY_PATH does not exist"
elif ! ldconfig -p 2>/dev/null | grep -q 'libxgboost\.so'; then
  if [ -f /etc/debian_version ] && command -v apt-get >/dev/null; then
    sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
    say "installing libxgboost0 (apt-get)"
    $sudo apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq libxgboost0 >/dev/null
  else
    die "libxgboost (XGBoost 1.7 shared library) not found. On Debian/Ubuntu: apt-get install libxgboost0; elsewhere build XGBoost 1.7 from source (https://xgboost.readthedocs.io/en/release_1.7.0/build.html) and set XGBOOST_LIBRARY_PATH to libxgboost.so"
  fi
fi

# 3. The Temporal CLI (dev server), unless an external cluster is configured.
if [ -z "${TEMPORAL_ADDRESS:-}" ]; then
  if [ -n "${TEMPORAL_CLI_PATH:-}" ]; then
    [ -x "$TEMPORAL_CLI_PATH" ] || die "TEMPORAL_CLI_PATH=$TEMPORAL_CLI_PATH is not an executable"
  elif ! command -v temporal >/dev/null && ! { command -v go >/dev/null && [ -x "$(go env GOPATH)/bin/temporal" ]; }; then
    command -v go >/dev/null || die "the Temporal CLI is missing and Go is not installed: install Go (https://go.dev/dl) or the Temporal CLI (https://docs.temporal.io/cli), or set TEMPORAL_CLI_PATH / TEMPORAL_ADDRESS"
    say "building the Temporal CLI v1.5.1 with go install (takes a few minutes, once)"
    # Later CLI tags carry a replace directive in go.mod and cannot be go-installed; v1.4.1 is the fallback.
    go install github.com/temporalio/cli/cmd/temporal@v1.5.1 || go install github.com/temporalio/cli/cmd/temporal@v1.4.1 \
      || die "go install of the Temporal CLI failed"
  fi
fi

# 4. Chromium, which the console's browser tests drive (playwright-core): CHROMIUM_PATH, else Debian's package.
#    Playwright's own browser download cannot reach its host from every machine; Debian's package can.
if [ -n "${CHROMIUM_PATH:-}" ]; then
  [ -x "$CHROMIUM_PATH" ] || die "CHROMIUM_PATH=$CHROMIUM_PATH is not an executable"
elif [ ! -x /usr/bin/chromium ]; then
  if [ -f /etc/debian_version ] && command -v apt-get >/dev/null; then
    sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
    say "installing chromium for the browser tests (apt-get, about 100 MB, once)"
    $sudo apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null
  else
    die "Chromium not found for the browser tests: install Chromium or Chrome and set CHROMIUM_PATH to its executable"
  fi
fi

# 5. The build (incremental), and the console's: vite runs only when a file under console/ (or the lock file) is
#    newer than the last build.
npx tsc -p tsconfig.json
if [ ! -f console/dist/index.html ] \
  || [ -n "$(find console package-lock.json -path console/dist -prune -o -type f -newer console/dist/index.html -print -quit)" ]; then
  say "building the web console (vite)"
  (cd console && VITE_CONFIG_NATIVE_IGNORE_WARNING=true npx vite build --logLevel warn)
fi
say "ready ($(( $(date +%s) - started )) s)"
