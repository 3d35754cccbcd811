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
clients=""
warn() { NNP_WARN="$NNP_WARN$*
"; }
has() { command -v "$1" >/dev/null 2>&1; }
# Bounded: a hung resolver or sudo must not hang the probe.
t() { if has timeout; then timeout 5 "$@"; else "$@"; fi; }
begin() { printf '@@section %s\n' "$1"; }
end() { printf '@@end\n'; }
catf() { if [ -r "$1" ]; then while IFS= read -r l || [ -n "$l" ]; do printf '%s\n' "$l"; done < "$1"; printf '\n'; else warn "$2: cannot read $1"; fi; }
kv() { printf '%s=%s\n' "$1" "$2"; }
# First line of a file into $nnp_l without starting a process (read is a builtin): the probe
# should cost few forks, since a loaded or tiny VPS pays tens of milliseconds for each.
rdv() { nnp_l=""; [ -r "$1" ] && IFS= read -r nnp_l < "$1" 2>/dev/null; return 0; }
# key=first line of file
kvf() { rdv "$2"; kv "$1" "$nnp_l"; }
linkname() { l=$(readlink "$1" 2>/dev/null) && printf '%s' "${l##*/}"; }

nnp_main() {
  printf '@@nixnode-probe 1\n'

  begin os-release; catf /etc/os-release os-release; end

  begin system
  set -- $(uname -r -m 2>/dev/null)
  kv arch "${2:-}"
  kv kernel "${1:-}"
  kvf hostname /proc/sys/kernel/hostname
  kvf boot_id /proc/sys/kernel/random/boot_id
  uid=$(id -u 2>/dev/null)
  kv uid "$uid"
  kv user "$(id -un 2>/dev/null)"
  kv sudo_user "${SUDO_USER:-}"
  if [ "$uid" = 0 ]; then kv sudo root
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
  kvf xen_caps /proc/xen/capabilities
  kvf hypervisor_type /sys/hypervisor/type
  kvf xen_guest_type /sys/hypervisor/guest_type
  end

  begin firmware
  kv efi "$([ -d /sys/firmware/efi ] && echo yes || echo no)"
  sbv=""
  # efivar layout: 4 attribute bytes, then the value byte (1 = Secure Boot on).
  for sb in /sys/firmware/efi/efivars/SecureBoot-*; do [ -e "$sb" ] && sbv=$(od -An -tu1 -j4 -N1 "$sb" 2>/dev/null | tr -d ' '); done
  kv secureboot "$sbv"
  kvf lockdown /sys/kernel/security/lockdown
  for f in sys_vendor product_name bios_vendor board_vendor chassis_vendor; do kvf "dmi_$f" "/sys/class/dmi/id/$f"; done
  end

  begin meminfo
  if [ -r /proc/meminfo ]; then
    while IFS= read -r l; do case "$l" in MemTotal:*|SwapTotal:*) printf '%s\n' "$l" ;; esac; done < /proc/meminfo
  else warn "memory: cannot read /proc/meminfo"; fi
  end

  # One pass over /proc/cpuinfo (it has ~30 lines per core): vendor, model, cores, virtualisation flags.
  begin cpuinfo
  vendor=""; model=""; impl=""; ncpu=0; vflag=""; hyp=0
  while IFS= read -r l; do
    case "$l" in
      processor*) ncpu=$((ncpu + 1)) ;;
      vendor_id*) [ -z "$vendor" ] && vendor=$l ;;
      "model name"*) [ -z "$model" ] && model=$l ;;
      "CPU implementer"*) [ -z "$impl" ] && impl=$l ;;
      flags*)
        if [ -z "$vflag" ]; then
          case " ${l#*:} " in *" vmx "*) vflag=vmx ;; *" svm "*) vflag=svm ;; esac
          case " ${l#*:} " in *" hypervisor "*) hyp=1 ;; esac
        fi ;;
    esac
  done < /proc/cpuinfo
  [ -n "$vendor" ] && printf '%s\n' "$vendor"; [ -n "$model" ] && printf '%s\n' "$model"; [ -n "$impl" ] && printf '%s\n' "$impl"
  kv virt_flag "$vflag"
  kv cpu_hypervisor_flag "$hyp"
  kv nproc "$(nproc 2>/dev/null || echo "$ncpu")"
  end

  begin lsblk
  cols=NAME,KNAME,PATH,TYPE,SIZE,MODEL,SERIAL,TRAN,ROTA,RM,RO,FSTYPE,LABEL,UUID,PKNAME
  # MOUNTPOINTS (all mounts of a device) exists from util-linux 2.37; MOUNTPOINT before.
  lsblk -J -b -o "$cols,MOUNTPOINTS" 2>/dev/null || lsblk -J -b -o "$cols,MOUNTPOINT" 2>/dev/null || warn "disks: lsblk -J failed or is missing"
  end

  begin sysblock
  for d in /sys/block/*; do
    case "${d##*/}" in loop*|ram*|zram*|"*") continue ;; esac
    rdv "$d/size"; sz=$nnp_l; rdv "$d/ro"; ro=$nnp_l; rdv "$d/removable"; rm=$nnp_l
    rdv "$d/queue/rotational"; rota=$nnp_l; rdv "$d/device/model"; model=$nnp_l; rdv "$d/device/serial"; serial=$nnp_l
    printf '%s\tsize=%s\tro=%s\trm=%s\trota=%s\tmodel=%s\tserial=%s\n' "${d##*/}" "$sz" "$ro" "$rm" "$rota" "$model" "$serial"
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
    kind=""; drv=""; mod=""
    [ -d "$n/bonding" ] && kind=bond; [ -d "$n/bridge" ] && kind=bridge; [ -d "$n/wireless" ] && kind=wlan
    while IFS= read -r l; do [ "$l" = DEVTYPE=vlan ] && kind=vlan; done < "$n/uevent" 2>/dev/null
    if [ -e "$n/device" ]; then drv=$(linkname "$n/device/driver"); mod=$(linkname "$n/device/driver/module"); elif [ -z "$kind" ]; then kind=virtual; fi
    rdv "$n/address"
    printf '%s mac=%s driver=%s module=%s kind=%s\n' "${n##*/}" "$nnp_l" "$drv" "$mod" "$kind"
  done
  end

  begin resolv; catf /etc/resolv.conf dns; end
  begin resolv-upstream; [ -r /run/systemd/resolve/resolv.conf ] && cat /run/systemd/resolve/resolv.conf; end
  begin resolvectl; has resolvectl && t resolvectl dns 2>/dev/null; end

  begin dhcp
  for d in /var/lib/dhcp /var/lib/dhclient /run/systemd/netif/leases /var/lib/NetworkManager /var/lib/dhcpcd /run/dhcpcd; do
    [ -d "$d" ] && for f in "$d"/*; do [ -e "$f" ] && kv lease "$f"; done
  done
  # which DHCP client runs (read is a builtin: no process per process)
  for c in /proc/[0-9]*/comm; do
    rdv "$c"
    case "$nnp_l" in dhclient|dhcpcd|systemd-network*|NetworkManager|udhcpc) case " $clients " in *" $nnp_l "*) ;; *) clients="$clients $nnp_l"; kv client "$nnp_l" ;; esac ;; esac
  done
  end

  begin hardware
  # Walk the drivers, not the devices: bound devices are links under their driver, so no readlink per device.
  for drv in /sys/bus/pci/drivers/*; do
    [ -d "$drv" ] || continue
    mod=""; [ -e "$drv/module" ] && mod=$(linkname "$drv/module")
    for dev in "$drv"/[0-9a-f]*:*; do
      [ -e "$dev/class" ] || continue
      rdv "$dev/class"; cls=$nnp_l; rdv "$dev/vendor"; ven=$nnp_l; rdv "$dev/device"; dv=$nnp_l
      printf 'pci %s class=%s vendor=%s device=%s module=%s driver=%s\n' "${dev##*/}" "$cls" "$ven" "$dv" "$mod" "${drv##*/}"
    done
  done
  for drv in /sys/bus/virtio/drivers/*; do
    [ -d "$drv" ] || continue
    for dev in "$drv"/virtio*; do
      [ -e "$dev/device" ] || continue
      rdv "$dev/device"
      printf 'virtio %s device=%s module= driver=%s\n' "${dev##*/}" "$nnp_l" "${drv##*/}"
    done
  done
  end

  begin modules; while read -r m rest; do printf '%s\n' "$m"; done < /proc/modules 2>/dev/null; end

  begin warnings; printf '%s' "$NNP_WARN"; end
  printf '@@done\n'
}

nnp_main </dev/null 2>/dev/null
