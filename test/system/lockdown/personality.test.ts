// The `nixos` personality applies host.json FOR REAL: these tests look at the target from the
// network (logins, offered methods, ports) after a build + switch, a boot-default switch and a reboot.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeKeyPair, type KeyPair } from "../../helpers/ssh-keys";
import { startTarget, targetsSupported, type TestTarget } from "../../targets";
import { nixosState } from "../../targets/personalities/nixos/setup";
import { offeredMethods, tryLogin } from "./login";

const supported = targetsSupported();

describe.skipIf(!supported.ok)(`nixos personality${supported.ok ? "" : ` (skipped: ${supported.reason})`}`, () => {
  let t: TestTarget;
  let key: KeyPair;
  let work: string;
  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), "nn-pers-"));
    key = await makeKeyPair(work);
    t = await startTarget({ personality: "nixos" });
  });
  afterAll(async () => {
    await t?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it("looks like NixOS with generation 1 active", async () => {
    expect((await t.exec(". /etc/os-release; echo $ID; nixos-version")).stdout).toMatch(/^nixos\n25\.11/);
    const s = await nixosState(t);
    expect(s.profileLink).toBe("system-1-link");
    expect(s.current).toBe(s.boot);
    expect(await tryLogin({ host: t.address, port: 22, password: t.rootPassword })).toMatchObject({ ok: true });
  });

  it("builds from the flake and switch-to-configuration test applies ports, auth, firewall and fail2ban; a reboot reverts", async () => {
    const flake = join(work, "flake");
    mkdirSync(join(flake, "hosts", t.name), { recursive: true });
    writeFileSync(join(flake, "flake.nix"), "{ outputs = { self }: { }; }\n");
    const host = {
      schema: 1,
      hostname: t.name,
      system: "x86_64-linux",
      stateVersion: "25.11",
      timezone: "UTC",
      profile: "base",
      ssh: {
        ports: [22, 2222],
        passwordAuthentication: false,
        permitRootLogin: "prohibit-password",
        authorizedKeys: [key.publicKey],
        adminUser: null,
        hostKeyFingerprint: null,
      },
      firewall: { enable: true, allowedTCPPorts: [22, 2222], allowedUDPPorts: [] },
      fail2ban: { enable: true, ignoreIP: [t.operatorAddress], maxretry: 3, bantime: "10m" },
      lockdown: { stage: "dual-port", port: 2222 },
      network: { interfaces: [], dns: [] },
      boot: { mode: "bios" },
    };
    writeFileSync(join(flake, "hosts", t.name, "host.json"), JSON.stringify(host));
    const built = await t.exec(
      `nix --extra-experimental-features 'nix-command flakes' build --no-link --print-out-paths 'path:${flake}#nixosConfigurations.${t.name}.config.system.build.toplevel'`,
    );
    expect(built.stderr).toBe("building the system configuration...\n");
    const top = built.stdout.trim();
    expect(top).toMatch(/^\/nix\/store\/[0-9a-f]{32}-nixos-system-/);
    const sw = await t.exec(`${top}/bin/switch-to-configuration test`);
    expect(sw.code).toBe(0);
    expect(await tryLogin({ host: t.address, port: 2222, privateKeyPath: key.privatePath })).toMatchObject({
      ok: true,
    });
    expect(await offeredMethods(t.address, 2222)).toEqual(["publickey"]);
    expect(await tryLogin({ host: t.address, port: 22, password: t.rootPassword })).toMatchObject({ ok: false });
    expect((await t.exec(`fail2ban-client -s ${t.dir}/fail2ban/fail2ban.sock get sshd ignoreip`)).stdout).toContain(
      t.operatorAddress,
    );
    expect((await nixosState(t)).current).toBe(top);

    await t.simulateReboot();
    expect((await nixosState(t)).current).not.toBe(top);
    expect(await tryLogin({ host: t.address, port: 22, password: t.rootPassword })).toMatchObject({ ok: true });
    expect(
      await tryLogin({ host: t.address, port: 2222, privateKeyPath: key.privatePath, timeoutMs: 3000 }),
    ).toMatchObject({ ok: false });
  });

  it("rejects an invalid host.json like a real build", async () => {
    const flake = join(work, "bad");
    mkdirSync(join(flake, "hosts", t.name), { recursive: true });
    writeFileSync(join(flake, "flake.nix"), "{ outputs = { self }: { }; }\n");
    writeFileSync(join(flake, "hosts", t.name, "host.json"), "{ not json");
    const r = await t.exec(
      `nix build --no-link --print-out-paths 'path:${flake}#nixosConfigurations.${t.name}.config.system.build.toplevel'`,
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/while parsing JSON/);
  });
});
