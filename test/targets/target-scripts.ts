// The shell scripts and sshd_config a target runs with. Pure text renderers: the target's folder
// `dir` is interpolated (it is ours, /tmp/nnt-targets/<name>, no user input).

export interface SshdSettings {
  ports: number[];
  permitRootLogin: "yes" | "prohibit-password" | "no";
  passwordAuthentication: boolean;
  usePam: boolean;
}

export function renderSshdConfig(s: SshdSettings): string {
  return [
    "# throwaway test target (test/targets): a fresh VPS's sshd",
    ...s.ports.map((p) => `Port ${p}`),
    "HostKey /etc/ssh/ssh_host_ed25519_key",
    `PermitRootLogin ${s.permitRootLogin}`,
    `PasswordAuthentication ${s.passwordAuthentication ? "yes" : "no"}`,
    "KbdInteractiveAuthentication no",
    "PubkeyAuthentication yes",
    "AuthorizedKeysFile .ssh/authorized_keys",
    `UsePAM ${s.usePam ? "yes" : "no"}`,
    "LogLevel VERBOSE",
    "PidFile none",
    "MaxStartups 100:30:200",
    "UseDNS no",
    "PrintMotd no",
    "AcceptEnv LANG LC_*",
    "Subsystem sftp /usr/lib/openssh/sftp-server",
    "",
  ].join("\n");
}

/** Replaces the Port lines of an sshd_config (other settings untouched). */
export function withPorts(config: string, ports: number[]): string {
  const lines = config.split("\n").filter((l) => !/^\s*port\s+/i.test(l));
  const at = Math.max(
    1,
    lines.findIndex((l) => !l.startsWith("#")),
  );
  lines.splice(at, 0, ...ports.map((p) => `Port ${p}`));
  return lines.join("\n");
}

/**
 * Run by `ip netns exec NS unshare -m -u --propagation private sh -c <this>`: builds the target's
 * private view of the filesystem, then becomes the namespace anchor (`sleep infinity`, same pid).
 */
export function renderHolderScript(dir: string, hostname: string): string {
  return `set -e
D='${dir}'
ip link set lo up
# /etc is an overlay: everything the target writes there lands in D/etc-upper, never on the host
mount -t overlay nnt-etc -o "lowerdir=/etc,upperdir=$D/etc-upper,workdir=$D/etc-work" /etc
mount --bind "$D/etc-ssh" /etc/ssh
mount --bind "$D/root" /root
mount --bind "$D/home" /home
mount --bind "$D/var-log" /var/log
mount --bind "$D/run" /run
mount --bind "$D/shims" /usr/local/sbin
mount --bind "$D/boot_id" /proc/sys/kernel/random/boot_id
hostname '${hostname}'
echo ready
exec sleep infinity >/dev/null 2>&1
`;
}

/** dir/start-sshd: replace the LISTENER only (sessions are their own process sessions and live on). */
export function renderStartSshd(dir: string): string {
  return `#!/bin/sh
# Runs INSIDE the target. Stops the current sshd listener (never the per-connection processes),
# starts a new one from /etc/ssh/sshd_config (= D/sshd_config) and waits until every Port listens.
set -u
D='${dir}'
CONF=/etc/ssh/sshd_config
# a zombie is gone for our purposes (whoever adopted it may reap late)
alive() { [ -d "/proc/$1" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null; }
if [ -s "$D/sshd.pid" ]; then
  old=$(cat "$D/sshd.pid")
  if [ "$(cat /proc/$old/comm 2>/dev/null)" = sshd ]; then
    kill "$old" 2>/dev/null
    i=0
    while alive "$old" && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done
    alive "$old" && kill -9 "$old" 2>/dev/null
  fi
  rm -f "$D/sshd.pid"
fi
# setsid: the listener is its own session, so nothing that kills the caller's group reaches it
setsid /usr/sbin/sshd -D -f "$CONF" -E "$D/sshd.log" </dev/null >/dev/null 2>>"$D/sshd.stderr" &
pid=$!
echo "$pid" > "$D/sshd.pid"
ports=$(sed -n 's/^[[:space:]]*[Pp][Oo][Rr][Tt][[:space:]]\\{1,\\}\\([0-9]\\{1,5\\}\\).*/\\1/p' "$CONF")
[ -n "$ports" ] || ports=22
i=0
while :; do
  if ! alive "$pid"; then
    rm -f "$D/sshd.pid"
    echo "sshd exited right after start; last log lines:" >&2
    tail -n 5 "$D/sshd.log" >&2
    exit 1
  fi
  ok=1
  for p in $ports; do ss -Hltn "sport = :$p" | grep -q . || ok=0; done
  [ $ok = 1 ] && exit 0
  i=$((i+1))
  if [ $i -ge 400 ]; then echo "sshd did not listen on $ports within 20 s" >&2; exit 1; fi
  sleep 0.05
done
`;
}

/** dir/reboot: what a reboot looks like from the network and from a fresh login. */
export function renderReboot(dir: string, holderPid: number, gateway: string, gateway6?: string): string {
  return `#!/bin/sh
# Runs INSIDE the target. Like a reboot: every process of the target stops (all ssh sessions drop),
# the link goes down briefly, the firewall starts empty (the harness's NNT-* fault chains stay),
# a new boot_id, then every executable in D/reboot.d/ runs in order (personalities restore their
# boot-default state there) and sshd starts via D/start-sshd.
# It survives its caller's session being killed (HUP/PIPE ignored, output to D/reboot.log).
# \`reboot --stop\` does only the first half (everything stopped, link down, new boot_id) and
# \`reboot --start\` only the second (reboot.d, link up, sshd), so a caller can act in between.
trap '' HUP PIPE
D='${dir}'
HOLDER=${holderPid}
GATEWAY='${gateway}'
phase=\${1:-all}
exec >>"$D/reboot.log" 2>&1
status=0
if [ "$phase" != --start ]; then
echo "reboot at $(date -u +%H:%M:%S.%N)"
me=$$
net=$(readlink /proc/self/ns/net)
# one find over all processes (a subshell per pid costs seconds on a busy machine)
pattern=$(printf '%s' "$net" | sed 's/[][]/\\\\&/g')
victims=$(find /proc/[0-9]*/ns/net -maxdepth 0 -lname "$pattern" 2>/dev/null | sed 's|^/proc/\\([0-9]*\\)/.*|\\1|')
for p in $victims; do
  [ "$p" = "$me" ] || [ "$p" = "$HOLDER" ] && continue
  [ "$(awk '/^PPid:/{print $2}' /proc/$p/status 2>/dev/null)" = "$me" ] && continue
  kill -9 "$p" 2>/dev/null
done
rm -f "$D/sshd.pid"
ip link set eth0 down
# the filter table restarts empty except the harness's NNT-* chains (one save/restore, no loops)
iptables-save -t filter | awk '
  /^:(INPUT|FORWARD|OUTPUT) / { print $1 " ACCEPT [0:0]"; next }
  /^:NNT-/ || /^-A NNT-/ || /^[*]/ { print; next }
  /^COMMIT/ { print "-A INPUT -j NNT-IN"; print "-A OUTPUT -j NNT-OUT"; print; next }
' | iptables-restore || { echo "reboot: resetting the firewall failed"; status=1; }
for t in nat mangle; do iptables -t $t -F 2>/dev/null; iptables -t $t -X 2>/dev/null; done
cat /proc/sys/kernel/random/uuid > "$D/boot_id.new" && cat "$D/boot_id.new" > "$D/boot_id" && rm -f "$D/boot_id.new"
sleep 0.3
fi
[ "$phase" = --stop ] && { echo "stopped (status $status)"; exit $status; }
for f in "$D"/reboot.d/*; do
  [ -f "$f" ] && [ -x "$f" ] || continue
  echo "reboot.d: $f"
  "$f" || { echo "reboot.d: $f failed ($?)"; status=1; }
done
ip link set eth0 up
ip route replace default via "$GATEWAY" dev eth0
${
  gateway6
    ? `ip -6 route replace default via '${gateway6}' dev eth0
`
    : ""
}"$D/start-sshd" || status=1
echo "reboot done (status $status)"
exit $status
`;
}
