#!/usr/bin/env bash
# Makes sure the PostgreSQL server the integration tests use is up on 127.0.0.1:5432
# (trust auth, user postgres, database test). Starts the Debian cluster when it is down.
set -euo pipefail
url="${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}"
ready() { pg_isready -q -d "$url" 2>/dev/null; }
if ready; then echo "postgres: up"; exit 0; fi
if ! command -v pg_ctlcluster >/dev/null 2>&1; then
  echo "postgres: not reachable at $url and pg_ctlcluster is not installed." >&2
  echo "Install PostgreSQL (apt-get install -y postgresql) or set TEST_DATABASE_URL." >&2
  exit 1
fi
version=$(ls /etc/postgresql | sort -V | tail -n 1)
echo "postgres: starting cluster $version/main"
pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
for _ in $(seq 1 30); do ready && { echo "postgres: up"; exit 0; }; sleep 1; done
echo "postgres: did not become ready at $url" >&2
exit 1
