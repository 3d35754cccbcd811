// hosts/<host>/hardware.nix from the detected facts, as nixos-generate-config would write it:
// the initrd modules for the storage and network hardware, KVM, CPU microcode and the guest
// profile. Used when no nixos-facter report exists (with one, hardware.facter.reportPath is used).
import type { InstallPlan } from "../plan/types";
import { nixStr } from "./fill-template";

type ModulesHardware = Extract<InstallPlan["hardware"], { kind: "modules" }>;

const GUEST: Record<ModulesHardware["guest"], { imports: string[]; settings: string[]; note: string }> = {
  qemu: { imports: ['(modulesPath + "/profiles/qemu-guest.nix")'], settings: [], note: "a KVM/QEMU virtual machine" },
  hyperv: { imports: [], settings: ["virtualisation.hypervGuest.enable = true;"], note: "a Hyper-V virtual machine" },
  vmware: { imports: [], settings: ["virtualisation.vmware.guest.enable = true;"], note: "a VMware virtual machine" },
  xen: { imports: [], settings: [], note: "a Xen (HVM) virtual machine" },
  none: {
    imports: ['(modulesPath + "/installer/scan/not-detected.nix")'],
    settings: ["hardware.enableRedistributableFirmware = lib.mkDefault true;"],
    note: "bare metal",
  },
};

export function renderHardwareNix(hw: ModulesHardware, system: string): string {
  const g = GUEST[hw.guest];
  const list = (xs: string[]) =>
    xs.length ? `[\n${[...new Set(xs)].map((x) => `    ${nixStr(x)}\n`).join("")}  ]` : "[ ]";
  const lines = [
    "# Hardware of this machine, from the facts nixnode-install detected (what nixos-generate-config",
    `# would write): ${g.note}. Regenerate with \`nixnode-install plan\`, or replace it with a`,
    "# nixos-facter report (hardware.facter.reportPath) for more detail.",
    "{ config, lib, modulesPath, ... }:",
    "{",
    `  imports = [${g.imports.length ? ` ${g.imports.join(" ")} ` : " "}];`,
    "",
    "  # Drivers the initrd needs to find the disks (and the network, for remote unlock).",
    `  boot.initrd.availableKernelModules = ${list(hw.initrdModules.filter((m) => !m.startsWith("kvm")))};`,
    `  boot.kernelModules = ${list(hw.kernelModules)};`,
  ];
  if (hw.cpuVendor === "intel" || hw.cpuVendor === "amd") {
    lines.push(
      `  hardware.cpu.${hw.cpuVendor}.updateMicrocode = lib.mkDefault config.hardware.enableRedistributableFirmware;`,
    );
  }
  for (const s of g.settings) lines.push(`  ${s}`);
  lines.push(`  nixpkgs.hostPlatform = lib.mkDefault ${nixStr(system)};`, "}", "");
  return lines.join("\n");
}
