// `nixnode-install detect` as a user runs it (the built bundle) against a real target: the readable
// report, --json, --save, exit 0 whatever the verdict, and one login for the whole command.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../../helpers/cli";
import { makeKeyPair, type KeyPair } from "../../helpers/ssh-keys";
import { startTarget, targetsSupported, type TestTarget } from "../../targets/index";
import { looksLikeKvmVps, operatorHome } from "./operator-home";

const supported = targetsSupported();
const accepted = (log: string) => log.split("\n").filter((l) => /Accepted \S+ for /.test(l)).length;

describe.skipIf(!supported.ok)(
  `detect CLI against a real target${supported.ok ? "" : ` (skipped: ${supported.reason})`}`,
  () => {
    let dir: string;
    let key: KeyPair;
    let t: TestTarget;
    let home: string;
    const env = () => ({ HOME: home, SSH_AUTH_SOCK: undefined, NIXNODE_SSH_PASSWORD: undefined });

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), "nnt-detect-cli-"));
      key = await makeKeyPair(dir);
      t = await startTarget({ authorizedKeys: [key.publicKey], hostname: "lnd-node", virt: "kvm" });
      await looksLikeKvmVps(t);
      home = await operatorHome(t, key);
    });
    afterAll(async () => {
      await t?.stop();
      rmSync(dir, { recursive: true, force: true });
      rmSync(home, { recursive: true, force: true });
    });

    it("prints the report and a passing verdict, with one login", async () => {
      const before = accepted(await t.sshdLog());
      const r = await runCli(["detect", `root@${t.address}`], { env: env() });
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^Host +lnd-node · Ubuntu 24\.04\.1 LTS/m);
      expect(r.stdout).toMatch(/^Machine +x86_64 · kvm · BIOS/m);
      expect(r.stdout).toContain(`you connect from ${t.operatorAddress}`);
      expect(r.stdout).toMatch(/\/dev\/vda .* \(holds \/\)/);
      expect(r.stdout).toContain(`${t.address}/30`);
      expect(r.stdout).toContain("Preflight: ready to install.");
      expect(r.stdout).toContain(`Next: nixnode-install plan root@${t.address} --out ./my-node`);
      expect(accepted(await t.sshdLog()) - before).toBe(1);
    });

    it("--json: a result event with the facts and the verdict; --save writes facts plan --facts accepts", async () => {
      const save = join(dir, "facts.json");
      const r = await runCli(["detect", `root@${t.address}`, "--json", "--save", save], { env: env() });
      expect(r.code).toBe(0);
      const result = r.events.find((e) => e.type === "result")!.data as {
        facts: { hostname: string; operatorAddress: string; virtualisation: string };
        verdict: { ok: boolean };
      };
      expect(result.facts).toMatchObject({
        hostname: "lnd-node",
        operatorAddress: t.operatorAddress,
        virtualisation: "kvm",
      });
      expect(result.verdict.ok).toBe(true);
      expect(JSON.parse(readFileSync(save, "utf8"))).toEqual(result.facts);
      const out = join(dir, "flake");
      const plan = await runCli(["plan", "--facts", save, "--ssh-key", key.publicKey, "--out", out, "--yes"], {
        env: env(),
      });
      expect(plan.stderr).toBe("");
      expect(plan.code).toBe(0);
      expect(JSON.parse(readFileSync(join(out, "hosts", "lnd-node", "host.json"), "utf8"))).toMatchObject({
        hostname: "lnd-node",
      });
    });

    it("a machine preflight refuses still exits 0: the verdict is the answer", async () => {
      await t.writeFile("/usr/local/sbin/systemd-detect-virt", "#!/bin/sh\necho openvz\n", 0o755);
      try {
        const r = await runCli(["detect", `root@${t.address}`], { env: env() });
        expect(r.code).toBe(0);
        expect(r.stdout).toContain("Preflight: this machine cannot be installed as it is.");
        expect(r.stdout).toMatch(/✗ container: /);
        expect(r.stdout).toContain("Nothing was changed.");
      } finally {
        await t.writeFile("/usr/local/sbin/systemd-detect-virt", "#!/bin/sh\necho kvm\n", 0o755);
      }
    });

    it("a 900 MiB VPS (the target's /proc/meminfo says so): the memory check refuses, with its fix", async () => {
      const small = await startTarget({ authorizedKeys: [key.publicKey], virt: "kvm", memoryMiB: 900 });
      const smallHome = await operatorHome(small, key);
      try {
        await looksLikeKvmVps(small);
        const r = await runCli(["detect", `root@${small.address}`, "--json"], {
          env: { HOME: smallHome, SSH_AUTH_SOCK: undefined },
        });
        expect(r.code).toBe(0);
        const data = r.events.find((e) => e.type === "result")!.data as {
          facts: { memory: { totalBytes: number } };
          verdict: { ok: boolean; checks: Array<{ id: string; status: string; fix?: string }> };
        };
        expect(data.facts.memory.totalBytes).toBe(900 * 1024 * 1024);
        expect(data.verdict.ok).toBe(false);
        expect(data.verdict.checks.filter((c) => c.status === "fail").map((c) => c.id)).toEqual(["memory"]);
        expect(data.verdict.checks.find((c) => c.id === "memory")!.fix).toBeTruthy();
      } finally {
        await small.stop();
        rmSync(smallHome, { recursive: true, force: true });
      }
    });
  },
);
