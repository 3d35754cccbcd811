// install --local's end screen and boot-medium filtering, from facts as the probe reports them.
import { describe, expect, it } from "vitest";
import { encode } from "uqr";
import { loadExample } from "../../../src/facts/examples";
import { withoutBootMedium } from "../../../src/install/local/boot-medium";
import { endScreen, reachableAddresses, terminalQr } from "../../../src/install/local/end-screen";

describe("local install end screen", () => {
  it("names the first global address, the pinned key and the exact lockdown command", () => {
    const facts = loadExample("hetzner-cloud");
    const addrs = reachableAddresses(facts);
    expect(addrs.length).toBeGreaterThan(0);
    expect(addrs.some((a) => a.startsWith("127.") || a.startsWith("fe80:"))).toBe(false);
    const s = endScreen({ facts, hostName: "rack7", fingerprint: "SHA256:abc", flakeOnStick: null });
    const host = addrs[0]!.includes(":") ? `[${addrs[0]}]` : addrs[0];
    expect(s.nextCommand).toBe(`nixnode-install lockdown root@${host} --flake ./rack7 --host-key SHA256:abc`);
    expect(s.lines).toContain(`  ${s.nextCommand}`);
  });

  it("the QR code has one row of half-blocks per two modules of the code for that text", () => {
    const text = "nixnode-install lockdown root@192.0.2.7 --flake ./rack7 --host-key SHA256:abc";
    const size = encode(text, { ecc: "L", border: 2 }).size;
    const rows = terminalQr(text).split("\n");
    expect(rows.length).toBe(Math.ceil(size / 2));
    expect(rows.every((r) => [...r].length === size)).toBe(true);
  });

  it("the boot medium is removed from the disks the wizard and planner see", () => {
    const facts = loadExample("proxmox-2disks");
    const [first, second] = facts.disks;
    const left = withoutBootMedium(facts, first!.path).disks.map((d) => d.path);
    expect(left).toEqual([second!.path]);
    expect(withoutBootMedium(facts, null).disks).toHaveLength(2);
  });
});
