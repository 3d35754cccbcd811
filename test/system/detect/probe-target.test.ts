// detect against a REAL target (test/targets: real sshd in its own namespaces): the facts match
// what the target itself says, and the probe costs one login and one command. Also refreshes
// test/fixtures/probe/ubuntu-vps-target-ssh.txt when UPDATE_PROBE_FIXTURES=1.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { detectFacts, runProbe } from "../../../src/detect/detect";
import { parseProbeOutput } from "../../../src/detect/parse-probe";
import { connectSsh, type SshTarget } from "../../../src/remote/ssh-target";
import { memoryLog } from "../../../src/ui/log";
import { makeKeyPair, type KeyPair } from "../../helpers/ssh-keys";
import { startTarget, targetsSupported, type TestTarget } from "../../targets/index";

const supported = targetsSupported();
const FIXTURE = fileURLToPath(new URL("../../fixtures/probe/ubuntu-vps-target-ssh.txt", import.meta.url));

const count = (log: string, re: RegExp) => log.split("\n").filter((l) => re.test(l)).length;
const ACCEPTED = /Accepted \S+ for /;
// sshd at LogLevel VERBOSE logs one "Starting session: command ..." per exec channel
const COMMANDS = /Starting session: command /;

describe.skipIf(!supported.ok)(
  `detect against a real target${supported.ok ? "" : ` (skipped: ${supported.reason})`}`,
  () => {
    let dir: string;
    let key: KeyPair;
    let t: TestTarget;
    let ssh: SshTarget;
    let raw: string;
    let logBefore: string;

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), "nnt-detect-"));
      key = await makeKeyPair(dir);
      t = await startTarget({ authorizedKeys: [key.publicKey], hostname: "btc-node-7" });
      logBefore = await t.sshdLog();
      ssh = await connectSsh({
        host: t.address,
        port: t.port,
        user: "root",
        identityFiles: [key.privatePath],
        pinnedHostKey: await t.hostKeyFingerprint(),
        log: memoryLog(),
      });
      raw = await runProbe(ssh);
      if (process.env.UPDATE_PROBE_FIXTURES === "1") writeFileSync(FIXTURE, raw);
    });
    afterAll(async () => {
      await ssh?.close();
      await t?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    it("costs exactly one login and one command", async () => {
      const after = (await t.sshdLog()).slice(logBefore.length);
      expect(count(after, ACCEPTED)).toBe(1);
      expect(count(after, COMMANDS)).toBe(1);
    });

    it("reports what the target itself says: host name, os-release, boot id, operator address", async () => {
      const f = parseProbeOutput(raw);
      const osRelease = (await t.exec("cat /etc/os-release")).stdout;
      expect(f.hostname).toBe("btc-node-7");
      expect(f.hostname).toBe((await t.exec("hostname")).stdout.trim());
      expect(f.os.id).toBe(/^ID=(.*)$/m.exec(osRelease)![1]);
      expect(f.os.versionId).toBe(/^VERSION_ID="?([^"\n]*)/m.exec(osRelease)![1]);
      expect(f.os).toMatchObject({ id: "ubuntu", versionId: "24.04", isNixos: false });
      expect(f.bootId).toBe(await t.bootId());
      expect(f.operatorAddress).toBe(t.operatorAddress);
      expect(f.access).toEqual({ user: "root", isRoot: true, sudo: "root" });
    });

    it("finds the target's address, its prefix and its default route as `ip` inside the target shows them", async () => {
      const f = parseProbeOutput(raw);
      const withAddr = f.network.interfaces.find((i) => i.addresses.some((a) => a.address === t.address))!;
      expect(withAddr).toBeDefined();
      const ipJson = JSON.parse((await t.exec(`ip -j addr show dev ${withAddr.name}`)).stdout) as Array<{
        address: string;
        addr_info: Array<{ local: string; prefixlen: number }>;
      }>;
      expect(withAddr.mac).toBe(ipJson[0]!.address);
      expect(withAddr.addresses.find((a) => a.address === t.address)!.prefix).toBe(
        ipJson[0]!.addr_info.find((a) => a.local === t.address)!.prefixlen,
      );
      const route = JSON.parse((await t.exec("ip -j -4 route show default")).stdout) as Array<{
        gateway?: string;
        dev: string;
      }>;
      if (route.length)
        expect(f.network.defaultGateway4).toMatchObject({ address: route[0]!.gateway, dev: route[0]!.dev });
      else expect(f.network.defaultGateway4).toBeNull();
    });

    it("a reboot shows as a new boot id on the next detect", async () => {
      const first = parseProbeOutput(raw).bootId;
      await ssh.close();
      await t.simulateReboot();
      const again = await connectSsh({
        host: t.address,
        port: t.port,
        user: "root",
        identityFiles: [key.privatePath],
        pinnedHostKey: await t.hostKeyFingerprint(),
        log: memoryLog(),
      });
      try {
        const f = await detectFacts(again);
        expect(f.bootId).not.toBe(first);
        expect(f.bootId).toBe(await t.bootId());
      } finally {
        await again.close();
      }
    });
  },
);
