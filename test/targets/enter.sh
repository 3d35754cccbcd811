#!/bin/sh
# enter.sh DIR COMMAND [ARGS...]: run COMMAND as root inside the target whose folder is DIR
# (its network, mount and UTS namespaces), with the PATH a root login there would have.
set -eu
if [ $# -lt 2 ] || [ ! -f "$1/target.json" ]; then
  echo "usage: enter.sh TARGET_DIR COMMAND [ARGS...] (TARGET_DIR holds target.json)" >&2
  exit 2
fi
dir=$1
shift
pid=$(sed -n 's/^ *"holderPid": *\([0-9][0-9]*\).*/\1/p' "$dir/target.json")
[ -n "$pid" ] || { echo "enter.sh: no holderPid in $dir/target.json" >&2; exit 2; }
exec nsenter -t "$pid" -n -m -u --wd=/root -- env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  HOME=/root USER=root LOGNAME=root LANG=C.UTF-8 "$@"
