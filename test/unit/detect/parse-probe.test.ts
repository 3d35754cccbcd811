// parseProbeOutput on our own probe captures (test/fixtures/probe, see its README), with values
// read from each capture by hand, and on variants of a capture: reached through sudo, truncated,
// without lsblk or `ip -j` (busybox-like), a Xen PV guest, Secure Boot and lockdown on.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseProbeOutput } from "../../../src/detect/parse-probe";
import { OperationError } from "../../../src/errors";

const fixture = (name: string) => readFileSync(new URL(`../../fixtures/probe/${name}`, import.meta.url), "utf8");
const LOCAL = fixture("debian12-dev-container-local.txt");

/** Replaces one section's body in a capture. */
function withSection(text: string, name: string, body: string): string {
  const re = new RegExp(`@@section ${name}\\n[\\s\\S]*?@@end\\n`);
  if (!re.test(text)) throw new Error(`no section ${name}`);
  return text.replace(re, `@@section ${name}\n${body}${body ? "\n" : ""}@@end\n`);
}
function withKey(text: string, key: string, value: string): string {
  return text.replace(new RegExp(`^${key}=.*$`, "m"), `${key}=${value}`);
}

describe("debian12-dev-container-local.txt (this machine, plain sh)", () => {
  const f = parseProbeOutput(LOCAL);
  it("system, OS and hardware", () => {
    expect(f).toMatchObject({
      source: "probe",
      hostname: "vm",
      os: {
        id: "debian",
        versionId: "12",
        prettyName: "Debian GNU/Linux 12 (bookworm)",
        isNixos: false,
        isNixosInstaller: false,
        kernel: "6.18.44-fc-v769",
      },
      arch: "x86_64",
      virtualisation: "docker",
      firmware: { mode: "bios", secureBoot: null, kernelLockdown: null, vendor: null },
      memory: { totalBytes: 24683620 * 1024, swapBytes: 0 },
      cpu: { vendor: "amd", model: "AMD EPYC", cores: 2 },
      bootId: "9f215486-c52b-4298-a3c9-fefab65b62c4",
      operatorAddress: null,
      access: { user: "root", isRoot: true, sudo: "root" },
      tools: { tar: true, cpio: false, setsid: true, curl: true, wget: true, kexec: false },
      initrdModules: ["virtio_blk", "virtio_pci"],
      warnings: [],
    });
  });
  it("disks: the one virtio disk holds /, zram and loop devices are not disks", () => {
    expect(f.disks.map((d) => [d.name, d.sizeBytes, d.transport, d.holdsRoot, d.byId])).toEqual([
      ["vda", 274877906944, "virtio", true, []],
    ]);
  });
  it("network: eth0 with static addresses, gateways inside the prefixes, DNS", () => {
    const eth0 = f.network.interfaces.find((i) => i.name === "eth0")!;
    expect(eth0).toMatchObject({
      mac: "02:fc:00:00:00:01",
      driver: "virtio_net",
      kind: "ethernet",
      state: "up",
      mtu: 1400,
    });
    expect(eth0.addresses.map((a) => `${a.address}/${a.prefix} ${a.scope}`)).toEqual([
      "192.0.2.2/24 global",
      "fd00::2/64 global",
      "fe80::fc:ff:fe00:1/64 link",
    ]);
    expect(f.network.interfaces.find((i) => i.name === "ifb0")!.kind).toBe("virtual");
    expect(f.network.defaultGateway4).toEqual({ address: "192.0.2.1", dev: "eth0", onLink: false });
    expect(f.network.defaultGateway6).toEqual({ address: "fd00::1", dev: "eth0", onLink: false });
    expect(f.network.dns).toEqual(["10.255.255.53"]);
    expect(f.network.dhcp4).toBe(false);
  });
});

describe("variants of a capture", () => {
  it("through sudo: the login user, passwordless sudo, and the operator address from a parent's SSH_CONNECTION", () => {
    let t = withKey(LOCAL, "sudo_user", "ubuntu");
    t = withKey(t, "ssh_connection", "198.51.100.23 50312 203.0.113.7 22");
    expect(parseProbeOutput(t)).toMatchObject({
      access: { user: "ubuntu", isRoot: true, sudo: "passwordless" },
      operatorAddress: "198.51.100.23",
    });
  });
  it("a non-root login without sudo rights", () => {
    const t = withKey(withKey(withKey(LOCAL, "uid", "1000"), "user", "deploy"), "sudo", "password");
    expect(parseProbeOutput(t).access).toEqual({ user: "deploy", isRoot: false, sudo: "password" });
  });
  it("UEFI with Secure Boot and kernel lockdown on, DMI naming the provider", () => {
    let t = withKey(LOCAL, "efi", "yes");
    t = withKey(t, "secureboot", "1");
    t = withKey(t, "lockdown", "none [integrity] confidentiality");
    t = withKey(t, "dmi_sys_vendor", "Hetzner");
    t = withKey(t, "dmi_product_name", "vServer");
    t = withKey(t, "dmi_bios_vendor", "Hetzner");
    expect(parseProbeOutput(t)).toMatchObject({
      firmware: { mode: "uefi", secureBoot: true, kernelLockdown: "integrity", vendor: "Hetzner" },
      provider: { vendor: "Hetzner", product: "vServer", hint: "hetzner-cloud" },
    });
  });
  it("virtualisation without systemd-detect-virt: OpenVZ, LXC, Xen PV", () => {
    const noSystemd = (kv: string) => withSection(LOCAL, "virt", kv);
    expect(parseProbeOutput(noSystemd("beancounters=yes\ncpu_hypervisor_flag=1")).virtualisation).toBe("openvz");
    expect(parseProbeOutput(noSystemd("container_env=lxc\ncpu_hypervisor_flag=1")).virtualisation).toBe("lxc");
    expect(parseProbeOutput(noSystemd("proc_xen=yes\nxen_guest_type=PV")).virtualisation).toBe("xen-pv");
    expect(parseProbeOutput(noSystemd("detect_virt=xen\nproc_xen=yes\nxen_guest_type=HVM")).virtualisation).toBe("xen");
    expect(parseProbeOutput(noSystemd("detect_virt=none\ncpu_hypervisor_flag=0")).virtualisation).toBe("none");
    expect(parseProbeOutput(noSystemd("detect_virt=microsoft")).virtualisation).toBe("hyperv");
  });
  it("a NixOS installer: nixos-install present and / on tmpfs", () => {
    let t = withSection(
      LOCAL,
      "os-release",
      'ID=nixos\nVARIANT_ID=""\nVERSION_ID="25.11"\nPRETTY_NAME="NixOS 25.11 (Xantusia)"',
    );
    t = withKey(t, "tool_nixos-install", "yes");
    t = withSection(t, "root-mount", "tmpfs tmpfs");
    expect(parseProbeOutput(t).os).toMatchObject({ id: "nixos", isNixos: true, isNixosInstaller: true });
  });
  it("busybox-like: no lsblk (disks from /sys/block) and text `ip` output", () => {
    let t = withSection(LOCAL, "lsblk", "");
    t = withSection(
      t,
      "ip-addr",
      `@@text
2: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc fq_codel state UP qlen 1000
    link/ether 96:00:01:23:45:67 brd ff:ff:ff:ff:ff:ff
    inet 116.203.0.7/32 scope global eth0
       valid_lft forever preferred_lft forever`,
    );
    t = withSection(t, "ip-route4", "@@text\ndefault via 172.31.1.1 dev eth0\n172.31.1.1 dev eth0 scope link");
    t = withSection(t, "ip-route6", "@@text\ndefault via fe80::1 dev eth0 metric 1024 pref medium");
    const f = parseProbeOutput(t);
    expect(f.disks.map((d) => [d.name, d.sizeBytes, d.transport, d.rotational, d.holdsRoot])).toEqual([
      ["vda", 274877906944, "virtio", true, true],
    ]);
    expect(f.network.defaultGateway4).toEqual({ address: "172.31.1.1", dev: "eth0", onLink: true });
    expect(f.network.defaultGateway6).toEqual({ address: "fe80::1", dev: "eth0", onLink: true });
    expect(f.network.routes.find((r) => r.destination === "172.31.1.1/32")).toMatchObject({
      gateway: null,
      dev: "eth0",
    });
  });
  it("/ on a btrfs subvolume (findmnt's /dev/vda[/@]) found through /sys/block when lsblk is missing", () => {
    const t = withSection(withSection(LOCAL, "lsblk", ""), "root-mount", "/dev/vda[/@] btrfs");
    expect(parseProbeOutput(t).disks.map((d) => [d.name, d.holdsRoot])).toEqual([["vda", true]]);
    const part = withSection(withSection(LOCAL, "lsblk", ""), "root-mount", "/dev/vda1 ext4");
    expect(parseProbeOutput(part).disks.map((d) => [d.name, d.holdsRoot])).toEqual([["vda", true]]);
    const other = withSection(withSection(LOCAL, "lsblk", ""), "root-mount", "/dev/vdb[/@] btrfs");
    expect(parseProbeOutput(other).disks.map((d) => [d.name, d.holdsRoot])).toEqual([["vda", false]]);
  });
  it("systemd-resolved's stub is replaced by the upstream servers", () => {
    let t = withSection(LOCAL, "resolv", "nameserver 127.0.0.53\noptions edns0 trust-ad");
    t = withSection(t, "resolv-upstream", "nameserver 185.12.64.1\nnameserver 185.12.64.2");
    t = withSection(t, "resolvectl", "Global:\nLink 2 (eth0): 185.12.64.2 2a01:4ff:ff00::add:1");
    expect(parseProbeOutput(t).network.dns).toEqual(["185.12.64.1", "185.12.64.2", "2a01:4ff:ff00::add:1"]);
  });
  it("a probe cut off mid-way still gives the facts gathered, with a warning", () => {
    const cut = LOCAL.slice(0, LOCAL.indexOf("@@section ip-addr"));
    const f = parseProbeOutput(cut);
    expect(f.hostname).toBe("vm");
    expect(f.network.interfaces).toEqual([]);
    expect(f.warnings).toContain("probe: the output ended early; facts after the last complete section are missing");
  });
  it("warnings gathered on the target are carried", () => {
    const t = withSection(
      LOCAL,
      "warnings",
      "virt: systemd-detect-virt not found\ndisks: lsblk -J failed or is missing",
    );
    expect(parseProbeOutput(t).warnings).toEqual([
      "virt: systemd-detect-virt not found",
      "disks: lsblk -J failed or is missing",
    ]);
  });
  it("output that is not a probe report (a login banner, a missing sh) is an OperationError", () => {
    expect(() => parseProbeOutput("This account is currently not available.\n")).toThrow(OperationError);
  });
});

describe("ubuntu-vps-target-ssh.txt (a throwaway target, over SSH)", () => {
  const f = parseProbeOutput(fixture("ubuntu-vps-target-ssh.txt"));
  it("system, OS, access and the operator address from SSH_CONNECTION", () => {
    expect(f).toMatchObject({
      hostname: "btc-node-7",
      os: { id: "ubuntu", versionId: "24.04", prettyName: "Ubuntu 24.04.1 LTS", isNixos: false },
      bootId: "96f28dd1-0883-4de0-b93a-1c24c1814874",
      operatorAddress: "10.231.149.185",
      access: { user: "root", isRoot: true, sudo: "root" },
    });
  });
  it("the one virtio disk holds /; zram is not a disk", () => {
    expect(f.disks.map((d) => [d.name, d.sizeBytes, d.transport, d.holdsRoot])).toEqual([
      ["vda", 274877906944, "virtio", true],
    ]);
    expect(f.warnings).toEqual([]);
  });
  it("lsblk without udev data listing nothing: disks come from /sys/block, with a warning", () => {
    const g = parseProbeOutput(
      withSection(fixture("ubuntu-vps-target-ssh.txt"), "lsblk", '{\n   "blockdevices": []\n}'),
    );
    expect(g.disks.map((d) => [d.name, d.sizeBytes, d.transport, d.holdsRoot])).toEqual([
      ["vda", 536870912 * 512, "virtio", true],
    ]);
    expect(g.warnings).toContain("disks: lsblk listed no disks; using /sys/block");
  });
  it("the veth with its /30, the gateway inside it, no IPv6 default", () => {
    const eth0 = f.network.interfaces.find((i) => i.name === "eth0")!;
    expect(eth0).toMatchObject({ mac: "ce:da:06:5b:36:1f", kind: "virtual", state: "up" });
    expect(eth0.addresses[0]).toEqual({
      family: 4,
      address: "10.231.149.186",
      prefix: 30,
      scope: "global",
      dynamic: false,
    });
    expect(f.network.defaultGateway4).toEqual({ address: "10.231.149.185", dev: "eth0", onLink: false });
    expect(f.network.defaultGateway6).toBeNull();
  });
});

describe("the current probe script on this machine (run now, not a stored capture)", () => {
  it("runs with sh and parses into valid facts that agree with the machine", async () => {
    const { execFileSync } = await import("node:child_process");
    const { PROBE_SCRIPT } = await import("../../../src/detect/probe-script");
    const out = execFileSync("sh", ["-s"], { input: PROBE_SCRIPT, encoding: "utf8" });
    const f = parseProbeOutput(out);
    const os = await import("node:os");
    expect(f.hostname).toBe(os.hostname());
    expect(f.cpu.cores).toBe(os.availableParallelism());
    expect(f.memory.totalBytes).toBe(os.totalmem());
    expect(f.arch).toBe(os.arch() === "x64" ? "x86_64" : os.arch() === "arm64" ? "aarch64" : "other");
    expect(f.os.kernel).toBe(os.release());
    expect(f.access.isRoot).toBe(process.getuid?.() === 0);
    expect(f.warnings.filter((w) => w.startsWith("probe:"))).toEqual([]);
  });
});
