#!/usr/bin/env bash
# `npm test` as an account without root, the way a newcomer runs the README's test command:
# a copy of this tree (after npm ci) owned by a throwaway account hubapps-t-unpriv, a PATH
# without /usr/sbin, and CI unset, so tests that need root skip with their reason instead of
# failing. Run as root (by .ci/run); writes the run's output to the file given as $1 and
# exits with npm test's status. Removes the account and the copy afterwards.
set -euo pipefail

log="${1:?usage: scripts/unprivileged-test.sh LOGFILE}"
repo="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
account=hubapps-t-unpriv
work="$(mktemp -d /tmp/hubapps-t-unpriv.XXXXXX)"
made_account=false

cleanup() {
  rm -rf "$work"
  if $made_account; then userdel "$account" >/dev/null 2>&1 || true; fi
}
trap cleanup EXIT

if [ "$(id -u)" != 0 ]; then
  echo "scripts/unprivileged-test.sh needs root (it makes the account $account)" >&2
  exit 2
fi
if ! id "$account" >/dev/null 2>&1; then
  useradd --no-create-home --home-dir "$work/home" --shell /bin/bash "$account"
  made_account=true
fi

mkdir -p "$work/home" "$work/repo"
# Everything a fresh clone has after `npm ci` (node_modules) and a build (dist), not .git.
tar -C "$repo" --exclude=./.git -cf - . | tar -C "$work/repo" -xf -
chown -R "$account:" "$work"
chmod 0755 "$work"

echo "npm test as $account (uid $(id -u "$account")) in $work/repo, PATH without sbin, CI unset"
set +e
runuser -u "$account" -- env -i PATH=/usr/local/bin:/usr/bin:/bin HOME="$work/home" LANG=C.UTF-8 \
  bash -c 'cd "$1" && npm test --silent -- --retries 1 --reporter ./.ci/summary-reporter.cjs' _ "$work/repo" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
exit "$status"
