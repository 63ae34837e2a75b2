#!/usr/bin/env bash
# make demo: start the seeded secure server, attack it with the whole
# catalogue so you see every defence hold, then keep serving until Ctrl-C.
#
# The server starts its own throwaway PostgreSQL (or uses DATABASE_URL) and
# removes it when it stops; Ctrl-C is forwarded to it so that clean-up runs.
set -uo pipefail

bin=${BIN:-./bin}
addr=${HTTP_ADDR:-127.0.0.1:8080}
base="http://$addr"
mkdir -p .data
log=.data/demo-server.log

# The fake payment provider (tools/cmd/fakepay) on loopback, signing its
# webhooks with the published development secret (docs/11-third-party-data.md).
payaddr=${FAKEPAY_ADDR:-127.0.0.1:8090}
"$bin/fakepay" -addr "$payaddr" -webhook "$base/api/v1/webhooks/payments" -secrets dev >.data/demo-fakepay.log 2>&1 &
fakepay=$!

# The server's request log (JSON lines) goes to a file while the attack
# table prints, then follows on the terminal.
SEED_DEMO_DATA=true HTTP_ADDR="$addr" PAYMENT_PROVIDER_URL="http://$payaddr" "$bin/api" serve >"$log" 2>&1 &
server=$!
follow=
stop() {
  kill -INT "$server" 2>/dev/null
  wait "$server"
  kill "$fakepay" 2>/dev/null
  [ -n "$follow" ] && kill "$follow" 2>/dev/null
  exit 0
}
trap stop INT TERM

# A first run builds a PostgreSQL cluster, which takes a few seconds.
ready=
for _ in $(seq 1 120); do
  if curl -fs "$base/readyz" >/dev/null 2>&1; then ready=1; break; fi
  if ! kill -0 "$server" 2>/dev/null; then break; fi
  sleep 0.5
done
if [ -z "$ready" ]; then
  cat "$log"
  echo "demo: the server did not become ready (log above)" >&2
  kill -INT "$server" 2>/dev/null
  wait "$server"
  kill "$fakepay" 2>/dev/null
  exit 1
fi
# The human part of the start-up output: the demo accounts and a session.
grep -v '^{' "$log"

printf '==> Attacking the secure server at %s with every attack in the catalogue (request log: %s).\n' "$base" "$log"
printf '    Each attack speaks from its own loopback address, as customers of its own: none waits on a\n'
printf '    limit another spent, and the demo accounts stay as seeded.\n\n'
# -signing-key dev: the demo signs tokens with the published development
# key, so the "correctly signed but wrong" token attacks can run too;
# -webhook-secret dev likewise for the webhook attacks that need a
# genuinely signed event.
"$bin/attack" -target "$base" -signing-key dev -webhook-secret dev
status=$?
case $status in
  0) printf '\n==> Every attack BLOCKED.\n' ;;
  1) printf '\n==> WARNING: at least one attack EXPLOITED this server (see the table above).\n' ;;
  *) printf '\n==> WARNING: the attack run did not complete (exit %d); see above.\n' "$status" ;;
esac
# The attacks used customers of their own, so the demo accounts are as
# seeded and their login limits untouched: sign in as alice at once.
printf '==> Still serving on %s; the demo accounts above are as seeded. Ctrl-C stops it. Request log follows.\n\n' "$base"
# --pid: the follower ends with this script, however it ends.
tail -n 0 --pid=$$ -f "$log" &
follow=$!
wait "$server"
