#!/bin/sh
# reboot.d hook (runs INSIDE the target during dir/reboot): the machine boots the installed system
# staged in MNT: the host key from the extra files, os-release, hostname, root's authorized_keys.
# FAULT (tests only): wrong-host-key = boot with a key that is not the pinned one;
# never-returns = sshd's port stays dropped (a box whose network does not come up).
set -eu
dir=$1 mnt=$2 fault=${3:-}
[ -f "$mnt/etc/os-release" ] || { echo "apply-installed-system: nothing installed in $mnt" >&2; exit 0; }
hostkey=$(awk '$1 == "HostKey" && $2 ~ /ed25519/ { print $2; exit }' "$dir/sshd_config")
[ -n "$hostkey" ] || { echo "apply-installed-system: no ed25519 HostKey in $dir/sshd_config" >&2; exit 1; }
if [ "$fault" = wrong-host-key ]; then
  rm -f "$hostkey" "$hostkey.pub"
  ssh-keygen -q -t ed25519 -N '' -C other -f "$hostkey"
elif [ -f "$mnt/etc/ssh/ssh_host_ed25519_key" ]; then
  cat "$mnt/etc/ssh/ssh_host_ed25519_key" > "$hostkey"
  chmod 600 "$hostkey"
  [ -f "$mnt/etc/ssh/ssh_host_ed25519_key.pub" ] && cat "$mnt/etc/ssh/ssh_host_ed25519_key.pub" > "$hostkey.pub"
fi
# rm first: /etc/os-release is a symlink into the host's /usr in the lower layer
rm -f /etc/os-release && cat "$mnt/etc/os-release" > /etc/os-release
rm -f /etc/hostname && cat "$mnt/etc/hostname" > /etc/hostname
mkdir -p /root/.ssh && chmod 700 /root/.ssh
cat "$mnt/root/.ssh/authorized_keys" > /root/.ssh/authorized_keys && chmod 600 /root/.ssh/authorized_keys
hostname "$(cat "$mnt/etc/hostname")"
# the installer's tools are gone in the installed system (/usr/local/sbin is the target's shim dir)
for f in /usr/local/sbin/*; do grep -q nixnode-standin-installer "$f" 2>/dev/null && rm -f "$f"; done
# H6's nixos personality: generation 1 = the installed host.json (sshd settings, firewall, fail2ban)
if [ -n "${NIXNODE_NIXOS_SHIM:-}" ] && [ -f "$NIXNODE_NIXOS_SHIM" ] && [ -f "$mnt/etc/nixnode-installed-host.json" ]; then
  "$NIXNODE_NODE" "$NIXNODE_NIXOS_SHIM" "$dir" setup "$mnt/etc/nixnode-installed-host.json" || { echo "apply-installed-system: nixos personality setup failed" >&2; exit 1; }
fi
# the release is the one built from the flake: the personality's setup writes its own default os-release
rm -f /etc/os-release && cat "$mnt/etc/os-release" > /etc/os-release
if [ "$fault" = never-returns ]; then
  for p in $(awk '$1 == "Port" { print $2 }' "$dir/sshd_config"); do iptables -I INPUT -p tcp --dport "$p" -j DROP; done
  grep -q '^Port' "$dir/sshd_config" || iptables -I INPUT -p tcp --dport 22 -j DROP
fi
