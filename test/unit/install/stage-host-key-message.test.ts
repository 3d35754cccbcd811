// A re-run that keeps the node's host key says so ONCE: not "Keeping ..." and then "New host key"
// for the same key (issue 10.15). The real step, a real flake folder, real keys; the screen text is
// what an Output writes.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import type { Facts } from "../../../src/facts/types";
import { readHostData } from "../../../src/install/flake-host";
import { stageHostKey } from "../../../src/install/steps/stage-host-key";
import type { InstallContext } from "../../../src/install/types";
import { readIdentityFile } from "../../../src/secrets/age";
import { memoryLog } from "../../../src/ui/log";
import { createOutput } from "../../../src/ui/output";

function screen() {
  const stdout = new PassThrough();
  let text = "";
  stdout.on("data", (d) => (text += d));
  const out = createOutput({ stdout, stderr: new PassThrough(), json: false, env: {}, stdinIsTTY: false });
  return { out, text: () => text };
}

describe("the host-key step's message", () => {
  it("a fresh key is announced as new; a kept key is announced once, as kept", async () => {
    const dir = mkdtempSync(join(tmpdir(), "nn-hkmsg-"));
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "op", "-f", join(dir, "op")]);
    const key = readFileSync(join(dir, "op.pub"), "utf8").trim();
    const flake = join(dir, "flake");
    mkdirSync(join(flake, "hosts", "node1"), { recursive: true });
    const host = {
      schema: 1,
      hostname: "node1",
      system: "x86_64-linux",
      stateVersion: "25.11",
      timezone: "UTC",
      profile: "base",
      ssh: {
        ports: [22],
        passwordAuthentication: true,
        permitRootLogin: "prohibit-password",
        authorizedKeys: [key],
        adminUser: null,
        hostKeyFingerprint: null,
      },
      firewall: { enable: true, allowedTCPPorts: [], allowedUDPPorts: [] },
      fail2ban: { enable: true, ignoreIP: [], maxretry: 5, bantime: "10m" },
      lockdown: { stage: "none", port: 2222 },
      network: { interfaces: [], dns: [] },
      boot: { mode: "bios" },
    };
    writeFileSync(join(flake, "hosts", "node1", "host.json"), JSON.stringify(host));
    const run = async () => {
      const s = screen();
      const r = await stageHostKey({
        flake: { dir: flake, hostName: "node1", host: readHostData(flake, "node1"), plan: null },
        runPhases: ["kexec", "disko", "install", "reboot"],
        operatorIdentities: async () => readIdentityFile(join(dir, "op"), "-i"),
        out: s.out,
        log: memoryLog(),
        state: {
          target: "root@192.0.2.1:22",
          phasesDone: [],
          phaseRunning: null,
        } as unknown as InstallContext["state"],
        presented: null,
        facts: { bootId: null } as unknown as Facts,
        engineName: "builtin",
        warnings: [],
      });
      r.staged?.temp.cleanup();
      return { text: s.text(), fingerprint: r.flake.host.ssh.hostKeyFingerprint! };
    };
    const first = await run();
    expect(first.text).toContain(`New host key for node1: ${first.fingerprint}`);
    expect(first.text).not.toMatch(/Keeping/);
    const again = await run();
    expect(again.fingerprint).toBe(first.fingerprint);
    expect(again.text.match(new RegExp(first.fingerprint.replace(/[+/]/g, "\\$&"), "g"))).toHaveLength(1);
    expect(again.text).toContain(`Keeping the node's host key ${first.fingerprint}`);
    expect(again.text).not.toMatch(/New host key/);
  });
});
