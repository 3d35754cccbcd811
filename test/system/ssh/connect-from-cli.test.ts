// connectFromCli end to end: an ssh config alias and flags, as a command would use them.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CommandContext } from "../../../src/cli/command";
import { OperationError } from "../../../src/errors";
import { connectFromCli } from "../../../src/cli/target-options";
import { createOutput } from "../../../src/ui/output";
import { memoryLog } from "../../../src/ui/log";
import { noPrompter } from "../../../src/ui/prompter";
import { makeKeyPair, type KeyPair } from "../../helpers/ssh-keys";
import { startTarget, targetsSupported, type TestTarget } from "../../targets/index";

const supported = targetsSupported();

function context(
  options: CommandContext["options"],
  env: NodeJS.ProcessEnv,
): CommandContext & { log: ReturnType<typeof memoryLog> } {
  const stdout = new PassThrough();
  const out = createOutput({ stdout, stderr: new PassThrough(), json: false, env, stdinIsTTY: false });
  return {
    args: [],
    options,
    out,
    prompter: noPrompter(),
    log: memoryLog(),
    env,
    cwd: env.HOME!,
    stdin: process.stdin,
    signal: new AbortController().signal,
  };
}

describe.skipIf(!supported.ok)(`connectFromCli${supported.ok ? "" : ` (skipped: ${supported.reason})`}`, () => {
  let home: string;
  let key: KeyPair;
  let t: TestTarget;
  beforeAll(async () => {
    home = mkdtempSync(join(tmpdir(), "nnt-cli-"));
    key = await makeKeyPair(home);
    t = await startTarget({ authorizedKeys: [key.publicKey], ports: [2022], ipv6: true });
  });
  afterAll(async () => {
    await t?.stop();
    rmSync(home, { recursive: true, force: true });
  });

  it("an ssh config alias supplies HostName, User, Port and IdentityFile", async () => {
    const config = join(home, "ssh_config");
    writeFileSync(
      config,
      `Host mynode\n  HostName ${t.address}\n  User root\n  Port ${t.port}\n  IdentityFile ${key.privatePath}\n`,
    );
    const ctx = context({ "ssh-config": config, "host-key": await t.hostKeyFingerprint() }, { HOME: home });
    const s = await connectFromCli(ctx, "mynode");
    expect(s.authMethod).toBe("publickey");
    expect(s.port).toBe(2022);
    expect((await s.run("hostname")).stdout.trim()).toBe(t.name);
    await s.close();
  });

  it("a password from --password-file logs in and never appears in the run log", async () => {
    const pw = join(home, "pw");
    writeFileSync(pw, t.rootPassword + "\n", { mode: 0o600 });
    const kh = join(home, "known_hosts");
    const ctx = context(
      { "password-file": pw, "known-hosts": kh, "accept-new-host-key": true },
      { HOME: join(home, "empty-home") },
    );
    const s = await connectFromCli(ctx, `root@${t.address}:${t.port}`);
    expect(s.authMethod).toBe("password");
    await s.close();
    expect(ctx.log.lines.join("\n")).not.toContain(t.rootPassword);
    // the key accepted on first use is now known: a second run needs no flag
    const again = await connectFromCli(
      context({ "password-file": pw, "known-hosts": kh }, { HOME: join(home, "empty-home") }),
      `root@${t.address}:${t.port}`,
    );
    await again.close();
  });

  it("an IPv6 literal destination connects, is remembered as [addr]:port, and survives a link flap and a reboot", async () => {
    const kh = join(home, "known_hosts6");
    const dest = `root@[${t.address6}]:${t.port}`;
    const first = await connectFromCli(
      context({ identity: [key.privatePath], "known-hosts": kh, "accept-new-host-key": true }, { HOME: home }),
      dest,
    );
    expect(first.remoteAddress).toBe(t.address6);
    expect((await first.run("echo $SSH_CONNECTION")).stdout.split(" ")[0]).toBe(t.operatorAddress6);
    await first.close();
    expect(readFileSync(kh, "utf8")).toContain(`[${t.address6}]:${t.port} ssh-ed25519 `);
    await t.faults.linkDown();
    await t.faults.linkUp();
    const again = await connectFromCli(
      context({ identity: [key.privatePath], "known-hosts": kh }, { HOME: home }),
      dest,
    );
    await again.close();
    await t.simulateReboot();
    const afterReboot = await connectFromCli(
      context({ identity: [key.privatePath], "known-hosts": kh }, { HOME: home }),
      dest,
    );
    await afterReboot.close();
  });

  it("non-interactive, unknown host, no flag: refused before any login attempt", async () => {
    const ctx = context(
      { "known-hosts": join(home, "kh-empty") },
      { HOME: home, NIXNODE_SSH_PASSWORD: t.rootPassword },
    );
    const before = await t.sshdLog();
    const e = await connectFromCli(ctx, `root@${t.address}:${t.port}`).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(OperationError);
    expect((e as OperationError).hint).toContain("--host-key SHA256:");
    expect((await t.sshdLog()).slice(before.length)).not.toMatch(/Accepted|Failed/);
  });
});
