#!/bin/sh
# nixnode-install lockdown supervisor. Runs ON THE TARGET under systemd-run, so it finishes on its
# own whatever happens to the operator's SSH connection or laptop.
#   supervisor.sh STATE_DIR NEW_TOPLEVEL OLD_TOPLEVEL CONFIRM_TIMEOUT_SEC
# 1. activates NEW with `switch-to-configuration test` (the boot default is unchanged, so a reboot
#    also reverts);
# 2. waits CONFIRM_TIMEOUT_SEC, counted from the END of the switch, for STATE_DIR/ack (written by
#    the operator over a NEW connection that proved the new config works) or STATE_DIR/nack (the
#    operator saw it fail and asks for the rollback now);
# 3. without an ack, switches back to OLD. Every step is appended to STATE_DIR/state as
#    "<epoch seconds> <event> [detail]" so the operator side (and a person) can follow it.
set -u
STATE_DIR=$1
NEW=$2
OLD=$3
TIMEOUT=$4
STATE="$STATE_DIR/state"

note() { echo "$(date +%s) $*" >>"$STATE"; }

roll_back() {
  note rolling-back "$1"
  if "$OLD/bin/switch-to-configuration" switch >>"$STATE_DIR/rollback.log" 2>&1; then
    note rolled-back "$1"
  else
    note rollback-failed "exit $?; see $STATE_DIR/rollback.log"
  fi
}

mkdir -p "$STATE_DIR"
echo $$ >"$STATE_DIR/supervisor.pid"
note switching "$NEW"
"$NEW/bin/switch-to-configuration" test >"$STATE_DIR/switch.log" 2>&1
code=$?
if [ "$code" -ne 0 ]; then
  note switch-failed "$code"
  roll_back "switch-to-configuration test exited $code"
  exit 1
fi
# one clock reading for both: the window is exactly TIMEOUT seconds from the end of the switch
now=$(date +%s)
deadline=$((now + TIMEOUT))
echo "$now switched $deadline" >>"$STATE"

while :; do
  if [ -e "$STATE_DIR/ack" ]; then
    note acknowledged
    exit 0
  fi
  if [ -e "$STATE_DIR/nack" ]; then
    roll_back "operator: $(head -c 300 "$STATE_DIR/nack" | tr '\n' ' ')"
    exit 1
  fi
  if [ "$(date +%s)" -ge "$deadline" ]; then
    roll_back "no acknowledgement within ${TIMEOUT}s"
    exit 1
  fi
  sleep 0.2 2>/dev/null || sleep 1
done
