// The human summary `detect` prints: what an operator checks before letting a tool wipe a disk.
// Pure: Facts in, lines out.
import type { Disk, Facts, NetInterface } from "../facts/types";
import { formatBytes } from "./preflight";

export function formatFacts(f: Facts): string[] {
  const fw = f.firmware;
  const os = f.os.prettyName ?? ([f.os.id, f.os.versionId].filter(Boolean).join(" ") || "unknown OS");
  const installer = f.os.isNixosInstaller ? " (NixOS installer)" : "";
  const sb = fw.secureBoot === null ? "" : fw.secureBoot ? ", Secure Boot ON" : ", Secure Boot off";
  const lockdown = fw.kernelLockdown && fw.kernelLockdown !== "none" ? `, kernel lockdown ${fw.kernelLockdown}` : "";
  const lines = [
    row("Host", `${f.hostname ?? "(no host name)"} · ${os}${installer} · kernel ${f.os.kernel ?? "?"}`),
    row(
      "Machine",
      `${f.arch} · ${f.virtualisation === "none" ? "bare metal" : f.virtualisation} · ${fw.mode === "unknown" ? "firmware unknown" : fw.mode.toUpperCase()}${sb}${lockdown}${fw.vendor ? ` (${fw.vendor})` : ""}`,
    ),
    row(
      "CPU/RAM",
      `${f.cpu.model ?? f.cpu.vendor}${f.cpu.cores ? `, ${f.cpu.cores} cores` : ""} · ${formatBytes(f.memory.totalBytes)} RAM${f.memory.swapBytes ? `, ${formatBytes(f.memory.swapBytes)} swap` : ""}`,
    ),
    row(
      "Provider",
      [f.provider.hint, [f.provider.vendor, f.provider.product].filter(Boolean).join(" ")]
        .filter(Boolean)
        .join(" · ") || "unknown",
    ),
    row(
      "Access",
      `${f.access.user ?? "?"}${f.access.isRoot ? "" : " (not root)"}, sudo: ${f.access.sudo} · you connect from ${f.operatorAddress ?? "(unknown)"}`,
    ),
    "",
    "Disks",
    ...diskTable(f.disks),
    "",
    "Network",
    ...f.network.interfaces
      .filter((i) => i.kind !== "loopback" && (i.addresses.length > 0 || i.state === "up"))
      .map(iface),
    ...gateways(f),
    `  DNS ${f.network.dns.join(" ") || "(none found)"} · IPv4 ${f.network.dhcp4 ? "by DHCP" : "static"}`,
    "",
    row("Initrd", f.initrdModules.join(" ") || "(none detected)"),
  ];
  if (f.warnings.length) lines.push("", "Probe warnings", ...f.warnings.map((w) => `  ${w}`));
  return lines;
}

function row(label: string, value: string): string {
  return `${label.padEnd(9)} ${value}`;
}

function diskTable(disks: Disk[]): string[] {
  if (disks.length === 0) return ["  (no disks found)"];
  const rows = disks.map((d) => [
    d.path,
    formatBytes(d.sizeBytes),
    d.model ?? "-",
    d.transport + (d.rotational ? "/hdd" : ""),
    d.mountpoints.join(" ") + (d.holdsRoot ? " (holds /)" : "") || "-",
    d.byId[0] ?? d.byPath[0] ?? "(no by-id name)",
  ]);
  const head = ["DEVICE", "SIZE", "MODEL", "BUS", "MOUNTS", "STABLE NAME"];
  const width = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const fmt = (r: string[]) => `  ${r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(width[i]!))).join("  ")}`;
  return [fmt(head), ...rows.map(fmt)];
}

function iface(i: NetInterface): string {
  const addrs = i.addresses
    .filter((a) => a.scope !== "link")
    .map((a) => `${a.address}/${a.prefix}${a.dynamic ? " (dynamic)" : ""}`);
  return `  ${i.name} ${i.mac ?? ""} ${i.state}${i.driver ? ` ${i.driver}` : ""}: ${addrs.join(", ") || "no global address"}`;
}

function gateways(f: Facts): string[] {
  const out: string[] = [];
  for (const [v, g] of [
    ["IPv4", f.network.defaultGateway4],
    ["IPv6", f.network.defaultGateway6],
  ] as const) {
    if (g) out.push(`  ${v} default via ${g.address} dev ${g.dev}${g.onLink ? " (on-link)" : ""}`);
  }
  return out.length ? out : ["  no default route"];
}
