// The documented path from a live machine to a flake, as an operator types it:
//   nixnode-install detect root@HOST --json > facts.json
//   nixnode-install plan --facts facts.json --out ./node
// against a real target whose only address is a static /30 with a default route: the flake keeps
// that address (no DHCP, no advice to plan from detect facts), and "Next" installs THIS flake.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../../helpers/cli";
import { makeKeyPair, type KeyPair } from "../../helpers/ssh-keys";
import { startTarget, targetsSupported, type TestTarget } from "../../targets/index";
import { looksLikeKvmVps, operatorHome } from "./operator-home";

const supported = targetsSupported();

describe.skipIf(!supported.ok)(
  `detect --json > facts.json, then plan --facts${supported.ok ? "" : ` (skipped: ${supported.reason})`}`,
  () => {
    let dir: string;
    let key: KeyPair;
    let t: TestTarget;
    let home: string;

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), "nnt-detect-plan-"));
      key = await makeKeyPair(dir);
      t = await startTarget({ authorizedKeys: [key.publicKey], hostname: "static30", virt: "kvm" });
      await looksLikeKvmVps(t);
      home = await operatorHome(t, key);
    });
    afterAll(async () => {
      await t?.stop();
      rmSync(dir, { recursive: true, force: true });
      rmSync(home, { recursive: true, force: true });
    });

    it("the redirected NDJSON plans, keeping the static /30 and its gateway; Next installs this flake", async () => {
      const env = { HOME: home, SSH_AUTH_SOCK: undefined, NIXNODE_SSH_PASSWORD: undefined };
      const detect = await runCli(["detect", `root@${t.address}`, "--json"], { env });
      expect(detect.code).toBe(0);
      const factsFile = join(dir, "facts.json");
      writeFileSync(factsFile, detect.stdout); // what `> facts.json` does

      const plan = await runCli(["plan", "--facts", "facts.json", "--ssh-key", key.publicKey, "--out", "node"], {
        env,
        cwd: dir,
      });
      expect(plan.stderr).toBe("");
      expect(plan.code).toBe(0);
      const host = JSON.parse(readFileSync(join(dir, "node", "hosts", "static30", "host.json"), "utf8"));
      const [iface] = host.network.interfaces;
      expect(host.network.interfaces).toHaveLength(1);
      expect(iface.addresses).toEqual([`${t.address}/30`]);
      expect(iface.dhcp4).toBe(false);
      expect(iface.routes).toEqual([expect.objectContaining({ destination: "0.0.0.0/0", onLink: false })]);
      expect(plan.stdout).not.toMatch(/DHCP|no addresses were captured|plan from `nixnode-install detect` facts/);
      expect(plan.stdout).toContain("install this flake: nixnode-install root@HOST --flake ./node");
      expect(plan.stdout).not.toMatch(/--config \S*nixnode\.json/);
    });
  },
);
