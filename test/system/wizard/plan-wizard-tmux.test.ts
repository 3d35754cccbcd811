// A person at the terminal: tmux runs `nixnode-install plan root@<target> --out DIR` (the built
// bundle) against a real target; the test types answers with send-keys, reads the screen with
// capture-pane, and checks the generated flake's host.json. Also Ctrl-C at a question, and the
// non-interactive path (no TTY): never a prompt, a missing answer named.
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tmuxServer } from "../../helpers/tmux";
import { BIN, runCli } from "../../helpers/cli";
import { makeKeyPair, type KeyPair } from "../../helpers/ssh-keys";
import { startTarget, targetsSupported, type TestTarget } from "../../targets/index";
import { looksLikeKvmVps, operatorHome } from "../detect/operator-home";

const run = promisify(execFile);
const supported = targetsSupported();
const { available: hasTmux, tmux, screen, waitFor, keys } = tmuxServer("nnt-wizard");
const count = (log: string, re: RegExp) => log.split("\n").filter((l) => re.test(l)).length;

describe.skipIf(!supported.ok || !hasTmux)(
  `the wizard at a real terminal${supported.ok ? (hasTmux ? "" : " (skipped: tmux is missing)") : ` (skipped: ${supported.reason})`}`,
  () => {
    let dir: string;
    let key: KeyPair;
    let t: TestTarget;
    let home: string;
    const start = async (name: string, args: string[]) => {
      const cmd = `env -u SSH_AUTH_SOCK -u NIXNODE_SSH_PASSWORD HOME='${home}' NO_COLOR=1 TERM=xterm-256color '${process.execPath}' '${BIN}' ${args.join(" ")}; echo "EXIT=$?"; sleep 600`;
      await tmux("new-session", "-d", "-s", name, "-x", "160", "-y", "50", cmd);
    };

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), "nnt-wizard-"));
      key = await makeKeyPair(dir, { comment: "alice@laptop" });
      t = await startTarget({ authorizedKeys: [key.publicKey], hostname: "vps-1234", virt: "kvm" });
      await looksLikeKvmVps(t);
      home = await operatorHome(t, key);
    });
    afterAll(async () => {
      await tmux("kill-server").catch(() => undefined); // only this test's own tmux server (-L)
      await t?.stop();
      rmSync(dir, { recursive: true, force: true });
      rmSync(home, { recursive: true, force: true });
    });

    it("asks only what the facts leave open, re-asks bad answers with the field's message, and writes the flake", async () => {
      const out = join(dir, "my-node");
      const before = await t.sshdLog();
      await start("plan", ["plan", `root@${t.address}`, "--out", out]);
      let s = await waitFor("plan", /Host name of the new system/);
      expect(s).toMatch(/✔ Probed root@.* Ubuntu 24\.04\.1 LTS, x86_64, 1 disk/);
      expect(s).toMatch(/Host name of the new system › vps-1234/); // the machine's own name as default
      await keys("plan", "Node-1", "Enter");
      await waitFor("plan", /hostname: "Node-1" has capital letters \(write it in lowercase: "node-1"\)/);
      for (let i = 0; i < 6; i++) await keys("plan", "BSpace");
      await keys("plan", "node-1", "Enter");
      s = await waitFor("plan", /Disk layout/);
      expect(s).not.toMatch(/mirror/); // one disk: no mirror offered, and no "which disk" question
      await keys("plan", "Enter");
      await waitFor("plan", /What should this node run/);
      await keys("plan", "Down", "Enter");
      s = await waitFor("plan", /Which public keys may log in/);
      expect(s).toMatch(/ssh-ed25519 \S+…\S+ alice@laptop/);
      await keys("plan", "Enter");
      await waitFor("plan", /SSH port after lockdown/);
      await keys("plan", "833w", "Enter");
      await waitFor("plan", /ssh\.port: "833w" is not a port number \(1-65535\)/);
      for (let i = 0; i < 4; i++) await keys("plan", "BSpace");
      await keys("plan", "2200", "Enter");
      s = await waitFor("plan", /fail2ban must never ban/);
      expect(s).toContain(t.operatorAddress); // prefilled with the operator's address as the target saw it
      await keys("plan", "Enter");
      await waitFor("plan", /Time zone/);
      await keys("plan", "Europe/Berlin", "Enter");
      s = await waitFor("plan", /EXIT=\d+/);
      expect(s).toContain("EXIT=0");
      expect(s).toMatch(/Planned node node-1 in .*my-node: profile nix-bitcoin/);
      // the next step installs the flake just reviewed, not a second plan made from its nixnode.json
      expect(s).toMatch(
        new RegExp(`install this flake: nixnode-install root@${t.address} --flake (\\./my-node|${out})\\s`),
      );

      const host = JSON.parse(readFileSync(join(out, "hosts", "node-1", "host.json"), "utf8"));
      expect(host).toMatchObject({
        hostname: "node-1",
        profile: "nix-bitcoin",
        timezone: "Europe/Berlin",
        lockdown: { stage: "none", port: 2200 },
      });
      expect(host.ssh.authorizedKeys).toEqual([key.publicKey]);
      expect(host.ssh.ports).toEqual([22]);
      expect(host.fail2ban.ignoreIP).toContain(t.operatorAddress);
      const answers = JSON.parse(readFileSync(join(out, "nixnode.json"), "utf8"));
      expect(answers).toMatchObject({
        hostname: "node-1",
        profile: "nix-bitcoin",
        ssh: { port: 2200 },
        disk: { layout: "ext4", devices: ["/dev/vda"] },
      });
      // the target saw one login and one command: the probe; the questions ran with the session closed
      const after = (await t.sshdLog()).slice(before.length);
      expect(count(after, /Accepted \S+ for /)).toBe(1);
      expect(count(after, /Starting session: command /)).toBe(1);
    });

    it("Ctrl-C at a question: exit 130, nothing written, nothing run on the target beyond the probe", async () => {
      const out = join(dir, "cancelled");
      const before = await t.sshdLog();
      await start("cancel", ["plan", `root@${t.address}`, "--out", out]);
      await waitFor("cancel", /Host name of the new system/);
      await keys("cancel", "C-c");
      const s = await waitFor("cancel", /EXIT=\d+/);
      expect(s).toContain("EXIT=130");
      expect(s).toMatch(/Cancelled at a question\. Nothing was changed on the target\./);
      expect(existsSync(out)).toBe(false);
      const after = (await t.sshdLog()).slice(before.length);
      expect(count(after, /Starting session: command /)).toBe(1);
    });

    it("no terminal: never prompts; the missing key is named; nothing written", async () => {
      const out = join(dir, "no-tty");
      const r = await runCli(["plan", `root@${t.address}`, "--out", out], {
        env: { HOME: home, SSH_AUTH_SOCK: undefined },
      });
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/ssh\.authorizedKeys: missing/);
      expect(r.stdout).not.toMatch(/Host name of the new system/);
      expect(existsSync(out)).toBe(false);
    });

    it("no terminal with the answers given: the flake is written from facts + flags", async () => {
      const out = join(dir, "scripted");
      const r = await runCli(
        ["plan", `root@${t.address}`, "--out", out, "--ssh-key", key.publicPath, "--yes", "--json"],
        { env: { HOME: home, SSH_AUTH_SOCK: undefined } },
      );
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      const result = r.events.find((e) => e.type === "result")!.data as { hostname: string; sshPort: number };
      expect(result).toMatchObject({ hostname: "vps-1234", sshPort: 2222 });
      const host = JSON.parse(readFileSync(join(out, "hosts", "vps-1234", "host.json"), "utf8"));
      expect(host.ssh.authorizedKeys).toEqual([key.publicKey]);
    });

    it("--dry-run: probes, shows the plan, writes nothing", async () => {
      const out = join(dir, "dry");
      const r = await runCli(
        ["plan", `root@${t.address}`, "--out", out, "--ssh-key", key.publicKey, "--dry-run", "--yes"],
        { env: { HOME: home, SSH_AUTH_SOCK: undefined } },
      );
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/Planned node vps-1234 \(dry run, nothing written\)/);
      expect(r.stdout).toMatch(/\/dev\/vda/);
      expect(existsSync(out)).toBe(false);
    });
  },
);
