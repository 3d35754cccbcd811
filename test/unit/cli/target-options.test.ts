import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { UserError } from "../../../src/errors";
import { sshFlagsForNext, sshSettingsFromCli } from "../../../src/cli/target-options";

const home = mkdtempSync(join(tmpdir(), "nnt-clihome-"));
mkdirSync(join(home, ".ssh"), { mode: 0o700 });
writeFileSync(join(home, ".ssh", "id_ed25519"), "placeholder: only its existence matters here");
writeFileSync(join(home, ".ssh", "config"), "Host btc\n  HostName 203.0.113.7\n  User admin\n  Port 2222\n");
const pw = join(home, "pw");
writeFileSync(pw, "hunter2\n", { mode: 0o600 });
const loose = join(home, "pw-loose");
writeFileSync(loose, "hunter2\n");
chmodSync(loose, 0o644);

const ctx = (options: Record<string, string | boolean | string[] | undefined>, env: NodeJS.ProcessEnv = {}) => ({
  options,
  env: { HOME: home, ...env },
  cwd: home,
});

describe("sshSettingsFromCli", () => {
  it("resolves an alias from ~/.ssh/config; the destination's own user/port win", () => {
    expect(sshSettingsFromCli(ctx({}), "btc")).toMatchObject({ host: "203.0.113.7", user: "admin", port: 2222 });
    expect(sshSettingsFromCli(ctx({}), "root@btc:22")).toMatchObject({ host: "203.0.113.7", user: "root", port: 22 });
    expect(sshSettingsFromCli(ctx({}), "198.51.100.4")).toMatchObject({ host: "198.51.100.4", user: "root", port: 22 });
  });

  it("default keys, agent, password file and env, known_hosts default", () => {
    const s = sshSettingsFromCli(
      ctx({ "password-file": pw }, { SSH_AUTH_SOCK: "/tmp/agent.sock" }),
      "root@198.51.100.4",
    );
    expect(s.identityFiles).toEqual([join(home, ".ssh", "id_ed25519")]);
    expect(s.agentSocket).toBe("/tmp/agent.sock");
    expect(s.password).toBe("hunter2");
    expect(s.knownHostsFiles?.[0]).toBe(join(home, ".ssh", "known_hosts"));
    expect(sshSettingsFromCli(ctx({}, { NIXNODE_SSH_PASSWORD: "from-env" }), "h").password).toBe("from-env");
  });

  it.each([
    [{ "host-key": "SHA256:short" }, "h", "--host-key"],
    [{ "host-key": "MD5:aa:bb" }, "h", "--host-key"],
    [{ "connect-timeout": "10s" }, "h", "--connect-timeout"],
    [{ "connect-timeout": "0" }, "h", "--connect-timeout"],
    [{ identity: [join(home, "nope")] }, "h", "--identity"],
    [{ "password-file": join(home, "missing") }, "h", "--password-file"],
    [{ "password-file": loose }, "h", "--password-file"],
    [{ "ssh-config": join(home, "no-config") }, "h", "--ssh-config"],
    [{}, "root@h:833w", "target"],
    [{}, "root@", "target"],
  ])("%o %s -> UserError naming %s", (options, dest, field) => {
    let err: unknown;
    try {
      sshSettingsFromCli(ctx(options), dest);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).field).toBe(field);
    expect((err as UserError).hint).toBeTruthy();
  });

  it("a valid pin and timeout are taken", () => {
    const fp = "SHA256:" + "A".repeat(43);
    expect(sshSettingsFromCli(ctx({ "host-key": fp, "connect-timeout": "7" }), "h")).toMatchObject({
      pinnedHostKey: fp,
      connectTimeoutMs: 7000,
    });
  });

  it("a printed Next command keeps how the operator logs in (-i, --ssh-config, --known-hosts), shell-quoted", () => {
    expect(sshFlagsForNext({ options: {} })).toBe("");
    expect(
      sshFlagsForNext({
        options: { identity: ["~/.ssh/id_node", "/keys/my key"], "ssh-config": "cfg", "known-hosts": "kh" },
      }),
    ).toBe(" -i ~/.ssh/id_node -i '/keys/my key' --ssh-config cfg --known-hosts kh");
  });
});
