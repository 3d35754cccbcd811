// A changed static address, in two stages: stage 1 carries the old AND the new address (with the new
// routes) and is confirmed by a new login to the NEW address; stage 2 drops the old one and is
// confirmed there again. A wrong new gateway is rolled back and the old address keeps working.
// The NixOS personality applies host.json's network.interfaces to the target's eth0 for real; the
// harness puts a second /30's gateway on the host side (addTargetSubnet).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { NetInterfacePlan } from "../../../src/plan/types";
import { targetsSupported } from "../../targets";
import { nixosState } from "../../targets/personalities/nixos/setup";
import { NEW_PORT, type Lab } from "../lockdown/fixture";
import { tryLogin } from "../lockdown/login";
import { editHost, lockedDownLab, runSwitchOn } from "./fixture";

const supported = targetsSupported();

function eth0(addresses: string[], gateway: string, onLink: boolean): NetInterfacePlan {
  return {
    name: "eth0",
    mac: "",
    dhcp4: false,
    ipv6AcceptRA: false,
    addresses,
    routes: [{ destination: "0.0.0.0/0", gateway, onLink }],
    requiredForOnline: true,
  };
}

describe.skipIf(!supported.ok)(
  `switch: a static address change${supported.ok ? "" : ` (skipped: ${supported.reason})`}`,
  () => {
    let lab: Lab;
    let next: { address: string; gateway: string };
    const eth0Addresses = async () => (await lab.t.exec("ip -o -4 addr show dev eth0")).stdout;
    const login = (host: string, timeoutMs?: number) =>
      tryLogin({ host, port: NEW_PORT, privateKeyPath: lab.key.privatePath, ...(timeoutMs ? { timeoutMs } : {}) });

    async function supervisorsGone() {
      const alive = `for f in /run/nixnode-lockdown/*/supervisor.pid; do [ -f "$f" ] && kill -0 "$(cat "$f")" 2>/dev/null && echo alive; done; true`;
      for (let i = 0; i < 120; i++) {
        if (!(await lab.t.exec(alive)).stdout.includes("alive")) return;
        await new Promise((r) => setTimeout(r, 500));
      }
      throw new Error("the previous switch's supervisor was still running after 60 s");
    }

    beforeAll(async () => {
      lab = await lockedDownLab();
      next = await lab.t.addTargetSubnet();
      // as an install leaves it: the address the node has now, written down as static
      editHost(lab, (h) => (h.network.interfaces = [eth0([`${lab.t.address}/30`], lab.t.operatorAddress, false)]));
      const r = await runSwitchOn(lab);
      if (r.error) throw r.error;
    }, 240_000);
    afterAll(() => lab?.stop());

    it("a wrong new gateway: exit 3, rolled back, the old address works and the new one is gone", async () => {
      const before = await nixosState(lab.t);
      // a gateway nobody answers for: replies from the new address go nowhere
      editHost(lab, (h) => (h.network.interfaces = [eth0([`${next.address}/32`], "192.0.2.1", true)]));
      const r = await runSwitchOn(lab);
      expect(r.error?.exitCode).toBe(3);
      expect(r.error?.message).toMatch(/switch stage 1 was rolled back: .*port 2222/);
      expect(r.error?.message).toMatch(new RegExp(`port 2222 on ${lab.t.address.replace(/\./g, "\\.")} works`));
      expect(r.output).toMatch(/addresses added: .*\/32 on eth0/);
      expect(r.output).toContain("two stages");
      await supervisorsGone();
      const after = await nixosState(lab.t);
      expect(after.profileLink).toBe(before.profileLink);
      expect(after.current).toBe(after.boot);
      expect(await eth0Addresses()).toContain(`${lab.t.address}/30`);
      expect(await eth0Addresses()).not.toContain(next.address);
      expect(await login(lab.t.address)).toMatchObject({ ok: true });
      const kh = readFileSync(join(lab.work, "known_hosts"), "utf8");
      expect(kh).not.toContain(`[${next.address}]`);
    }, 180_000);

    it("confirmed on the new address: the old one removed after stage 2, logins on the new one work, known_hosts has it", async () => {
      editHost(lab, (h) => (h.network.interfaces = [eth0([`${next.address}/32`], next.gateway, true)]));
      const r = await runSwitchOn(lab);
      expect(r.error?.message).toBeUndefined();
      expect(r.output).toContain(`stage 1 confirmed on ${next.address} port ${NEW_PORT}`);
      expect(r.output).toContain(`stage 2 confirmed on ${next.address} port ${NEW_PORT}`);
      expect(r.result?.host).toBe(next.address);
      const addrs = await eth0Addresses();
      expect(addrs).toContain(`${next.address}/32`);
      expect(addrs).not.toContain(`${lab.t.address}/`);
      expect(await login(next.address)).toMatchObject({ ok: true });
      expect(await login(lab.t.address, 3000)).toMatchObject({ ok: false });
      expect(readFileSync(join(lab.work, "known_hosts"), "utf8")).toContain(`[${next.address}]:${NEW_PORT}`);
      // the target's record of what it runs is the confirmed final configuration
      const rec = await lab.t.exec("cat /var/lib/nixnode-install/confirmed-host.json");
      expect(JSON.parse(rec.stdout).network.interfaces[0].addresses).toEqual([`${next.address}/32`]);
    }, 180_000);

    it("after a reboot the node comes back on the new address (the boot default carries it)", async () => {
      await lab.t.simulateReboot();
      expect(await eth0Addresses()).toContain(`${next.address}/32`);
      expect(await login(next.address)).toMatchObject({ ok: true });
    }, 120_000);
  },
);
