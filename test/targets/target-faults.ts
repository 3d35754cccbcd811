// Network faults of one target, applied inside its namespace (and on the host side of its veth):
// the NNT-IN/NNT-OUT chains exist from the start and survive a simulated reboot.
import type { Slot } from "./address-slots";
import { mustRun, runCommand } from "./run-command";
import type { TestTarget } from "./index";

export function makeFaults(holderPid: number, slot: Slot, ipv6 = false): TestTarget["faults"] {
  const inNet = (file: string, args: string[]) =>
    mustRun("nsenter", ["-t", String(holderPid), "-n", "--", file, ...args]);
  return {
    blockPort: (p: number) =>
      inNet("iptables", ["-I", "NNT-IN", "1", "-p", "tcp", "--dport", String(p), "--syn", "-j", "DROP"]).then(
        () => undefined,
      ),
    async unblockPort(p: number) {
      const rule = ["NNT-IN", "-p", "tcp", "--dport", String(p), "--syn", "-j", "DROP"];
      while (
        (await runCommand("nsenter", ["-t", String(holderPid), "-n", "--", "iptables", "-D", ...rule])).code === 0
      );
    },
    async blackholeAll() {
      await inNet("iptables", ["-A", "NNT-IN", "!", "-i", "lo", "-j", "DROP"]);
      await inNet("iptables", ["-A", "NNT-OUT", "!", "-o", "lo", "-j", "DROP"]);
    },
    async restoreAll() {
      for (const [chain, dirFlag] of [
        ["NNT-IN", "-i"],
        ["NNT-OUT", "-o"],
      ] as const) {
        const rule = [chain, "!", dirFlag, "lo", "-j", "DROP"];
        while (
          (await runCommand("nsenter", ["-t", String(holderPid), "-n", "--", "iptables", "-D", ...rule])).code === 0
        );
      }
    },
    linkDown: () => inNet("ip", ["link", "set", "eth0", "down"]).then(() => undefined),
    async linkUp() {
      await inNet("ip", ["link", "set", "eth0", "up"]);
      await inNet("ip", ["route", "replace", "default", "via", slot.hostAddress, "dev", "eth0"]);
      if (ipv6) await inNet("ip", ["-6", "route", "replace", "default", "via", slot.hostAddress6, "dev", "eth0"]);
    },
    async bandwidth(rate: string) {
      const tbf = ["root", "tbf", "rate", rate, "burst", "32kbit", "latency", "400ms"];
      await mustRun("tc", ["qdisc", "replace", "dev", slot.hostIf, ...tbf]);
      await inNet("tc", ["qdisc", "replace", "dev", "eth0", ...tbf]);
    },
    async clearBandwidth() {
      await runCommand("tc", ["qdisc", "del", "dev", slot.hostIf, "root"]);
      await runCommand("nsenter", ["-t", String(holderPid), "-n", "--", "tc", "qdisc", "del", "dev", "eth0", "root"]);
    },
  };
}
