# nixnode-install probe: gathers every fact in ONE round trip and changes nothing.
# Output format (parsed by src/detect/parse-sections.ts):
#   @@nixnode-probe 1
#   @@section NAME      raw output of one source, verbatim
#   @@end
# Every section is independent: a missing command or unreadable file becomes a line in the
# "warnings" section, never a failure of the whole probe. POSIX sh only (dash, bash, busybox ash).
# Run as root or through `sudo -n`; reads stdin from /dev/null so that a script fed on stdin
# (sh -s) is never eaten by a command that reads stdin.

NNP_WARN=""
warn() { NNP_WARN="$NNP_WARN$*
"; }
has() { command -v "$1" >/dev/null 2>&1; }
# Bounded: a hung resolver or sudo must not hang the probe.
t() { if has timeout; then timeout 5 "$@"; else "$@"; fi; }
begin() { printf '@@section %s\n' "$1"; }
end() { printf '@@end\n'; }
catf() { if [ -r "$1" ]; then cat "$1" 2>/dev/null; printf '\n'; else warn "$2: cannot read $1"; fi; }
kv() { printf '%s=%s\n' "$1" "$2"; }
# first line of a file without starting a process (read is a builtin)
rd() { [ -r "$1" ] && IFS= read -r nnp_l < "$1" 2>/dev/null; printf '%s' "${nnp_l:-}"; nnp_l=""; }
linkname() { l=$(readlink "$1" 2>/dev/null) && printf '%s' "${l##*/}"; }

nnp_main() {
  printf '@@nixnode-probe 1\n'

  begin os-release; catf /etc/os-release os-release; end

  begin system
  kv arch "$(uname -m 2>/dev/null)"
  kv kernel "$(uname -r 2>/dev/null)"
  kv hostname "$(cat /proc/sys/kernel/hostname 2>/dev/null || hostname 2>/dev/null)"
  kv boot_id "$(cat /proc/sys/kernel/random/boot_id 2>/dev/null)"
  kv nproc "$(nproc 2>/dev/null || grep -c '^processor' /proc/cpuinfo 2>/dev/null)"
  kv uid "$(id -u 2>/dev/null)"
  kv user "$(id -un 2>/dev/null)"
  kv sudo_user "${SUDO_USER:-}"
  if [ "$(id -u 2>/dev/null)" = 0 ]; then kv sudo root
  elif ! has sudo; then kv sudo none
  elif t sudo -n true >/dev/null 2>&1; then kv sudo passwordless
  else kv sudo password; fi
  # sudo resets the environment: look for SSH_CONNECTION in the parent processes too.
  sc="${SSH_CONNECTION:-}"; p=$$; n=0
  while [ -z "$sc" ] && [ -n "${SUDO_USER:-}" ] && [ "$n" -lt 8 ] && [ -n "$p" ] && [ "$p" != 1 ] && [ "$p" != 0 ]; do
    sc=$(tr '\0' '\n' < "/proc/$p/environ" 2>/dev/null | sed -n 's/^SSH_CONNECTION=//p')
    sc=${sc%%
*}
    pp=""; while read -r k v; do [ "$k" = "PPid:" ] && pp=$v; done < "/proc/$p/status"; p=$pp; n=$((n + 1))
  done
  kv ssh_connection "$sc"
  for c in tar cpio setsid curl wget kexec nixos-install nixos-facter; do
    if has "$c"; then kv "tool_$c" yes; else kv "tool_$c" no; fi
  done
  kv etc_nixos "$([ -e /etc/NIXOS ] && echo yes || echo no)"
  end

  begin virt
  if has systemd-detect-virt; then kv detect_virt "$(t systemd-detect-virt 2>/dev/null)"; else warn "virt: systemd-detect-virt not found"; fi
  kv container_env "$(tr '\0' '\n' < /proc/1/environ 2>/dev/null | sed -n 's/^container=//p' | head -n 1)"
  kv beancounters "$([ -e /proc/user_beancounters ] && echo yes || echo no)"
  kv dockerenv "$([ -e /.dockerenv ] && echo yes || echo no)"
  kv containerenv "$([ -e /run/.containerenv ] && echo yes || echo no)"
  kv proc_xen "$([ -e /proc/xen ] && echo yes || echo no)"
  kv xen_caps "$(rd /proc/xen/capabilities)"
  kv hypervisor_type "$(rd /sys/hypervisor/type)"
  kv xen_guest_type "$(rd /sys/hypervisor/guest_type)"
  kv cpu_hypervisor_flag "$(grep -m 1 -c -w hypervisor /proc/cpuinfo 2>/dev/null)"
  end

  begin firmware
  kv efi "$([ -d /sys/firmware/efi ] && echo yes || echo no)"
  sb=$(ls /sys/firmware/efi/efivars/SecureBoot-* 2>/dev/null | head -n 1)
  # efivar layout: 4 attribute bytes, then the value byte (1 = Secure Boot on).
  if [ -n "$sb" ]; then kv secureboot "$(od -An -tu1 -j4 -N1 "$sb" 2>/dev/null | tr -d ' ')"; else kv secureboot ""; fi
  kv lockdown "$(rd /sys/kernel/security/lockdown)"
  for f in sys_vendor product_name bios_vendor board_vendor chassis_vendor; do kv "dmi_$f" "$(rd /sys/class/dmi/id/$f)"; done
  end

  begin meminfo; grep -E '^(MemTotal|SwapTotal):' /proc/meminfo 2>/dev/null || warn "memory: cannot read /proc/meminfo"; end

  begin cpuinfo
  grep -m 1 -E '^vendor_id' /proc/cpuinfo 2>/dev/null
  grep -m 1 -E '^model name' /proc/cpuinfo 2>/dev/null
  grep -m 1 -E '^CPU implementer' /proc/cpuinfo 2>/dev/null
  kv virt_flag "$(grep -m 1 -o -w -E 'vmx|svm' /proc/cpuinfo 2>/dev/null | head -n 1)"
  end

  begin lsblk
  cols=NAME,KNAME,PATH,TYPE,SIZE,MODEL,SERIAL,TRAN,ROTA,RM,RO,FSTYPE,LABEL,UUID,PKNAME
  # MOUNTPOINTS (all mounts of a device) exists from util-linux 2.37; MOUNTPOINT before.
  lsblk -J -b -o "$cols,MOUNTPOINTS" 2>/dev/null || lsblk -J -b -o "$cols,MOUNTPOINT" 2>/dev/null || warn "disks: lsblk -J failed or is missing"
  end

  begin sysblock
  for d in /sys/block/*; do
    case "${d##*/}" in loop*|ram*|zram*|"*") continue ;; esac
    printf '%s\tsize=%s\tro=%s\trm=%s\trota=%s\tmodel=%s\tserial=%s\n' "${d##*/}" "$(rd "$d/size")" "$(rd "$d/ro")" "$(rd "$d/removable")" \
      "$(rd "$d/queue/rotational")" "$(rd "$d/device/model")" "$(rd "$d/device/serial")"
  done
  end

  begin by-id; ls -l /dev/disk/by-id 2>/dev/null; end
  begin by-path; ls -l /dev/disk/by-path 2>/dev/null; end
  begin root-mount; findmnt -n -r -o SOURCE,FSTYPE / 2>/dev/null || awk '$2 == "/" { print $1, $3 }' /proc/mounts 2>/dev/null; end

  begin ip-addr
  ip -j addr 2>/dev/null || { printf '@@text\n'; ip addr 2>/dev/null; } || warn "network: ip addr failed or ip is missing"
  end
  begin ip-route4
  ip -j -4 route 2>/dev/null || { printf '@@text\n'; ip -4 route 2>/dev/null; } || warn "network: ip -4 route failed"
  end
  begin ip-route6
  ip -j -6 route 2>/dev/null || { printf '@@text\n'; ip -6 route 2>/dev/null; } || warn "network: ip -6 route failed"
  end

  begin netdev
  for n in /sys/class/net/*; do
    [ -e "$n" ] || continue
    kind=""
    [ -d "$n/bonding" ] && kind=bond; [ -d "$n/bridge" ] && kind=bridge; [ -d "$n/wireless" ] && kind=wlan
    grep -q '^DEVTYPE=vlan' "$n/uevent" 2>/dev/null && kind=vlan
    [ -z "$kind" ] && [ ! -e "$n/device" ] && kind=virtual
    printf '%s mac=%s driver=%s module=%s kind=%s\n' "${n##*/}" "$(rd "$n/address")" "$(linkname "$n/device/driver")" "$(linkname "$n/device/driver/module")" "$kind"
  done
  end

  begin resolv; catf /etc/resolv.conf dns; end
  begin resolv-upstream; [ -r /run/systemd/resolve/resolv.conf ] && cat /run/systemd/resolve/resolv.conf; end
  begin resolvectl; has resolvectl && t resolvectl dns 2>/dev/null; end

  begin dhcp
  for d in /var/lib/dhcp /var/lib/dhclient /run/systemd/netif/leases /var/lib/NetworkManager /var/lib/dhcpcd /run/dhcpcd; do
    [ -d "$d" ] && for f in "$d"/*; do [ -e "$f" ] && kv lease "$f"; done
  done
  for c in /proc/[0-9]*/comm; do
    case "$(cat "$c" 2>/dev/null)" in dhclient|dhcpcd|systemd-network*|NetworkManager|udhcpc) kv client "$(cat "$c" 2>/dev/null)" ;; esac
  done | sort -u
  end

  begin hardware
  for d in /sys/bus/pci/devices/*; do
    [ -e "$d/class" ] || continue
    printf 'pci %s class=%s vendor=%s device=%s module=%s driver=%s\n' "${d##*/}" "$(rd "$d/class")" "$(rd "$d/vendor")" "$(rd "$d/device")" \
      "$(linkname "$d/driver/module")" "$(linkname "$d/driver")"
  done
  for d in /sys/bus/virtio/devices/*; do
    [ -e "$d" ] || continue
    printf 'virtio %s device=%s module=%s driver=%s\n' "${d##*/}" "$(rd "$d/device")" "$(linkname "$d/driver/module")" "$(linkname "$d/driver")"
  done
  for d in /sys/block/*; do
    [ -e "$d/device" ] || continue
    printf 'block %s module=%s driver=%s\n' "${d##*/}" "$(linkname "$d/device/driver/module")" "$(linkname "$d/device/driver")"
  done
  end

  begin modules; cut -d ' ' -f 1 /proc/modules 2>/dev/null; end

  begin warnings; printf '%s' "$NNP_WARN"; end
  printf '@@done\n'
}

nnp_main </dev/null 2>/dev/null
