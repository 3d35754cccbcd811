// The install's steps, each given only the context fields it uses (as create-astro's tests do):
// --phases that would run disko on a running system are refused; resume reads state.json and what
// the target is now; the runner closes the primary session whichever step fails.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { UserError } from "../../../src/errors";
import { freshInstallState, writeInstallState } from "../../../src/install/install-state";
import type { InstallPhase } from "../../../src/install/phases";
import { INSTALL_STEPS, runInstall, type InstallStep } from "../../../src/install/run-install";
import { checkRequestedPhases } from "../../../src/install/steps/check-phases";
import { gateDestructive } from "../../../src/install/steps/gate-destructive";
import { resolveResume } from "../../../src/install/steps/resolve-resume";
import type { FlakeInfo, InstallDeps, InstallSession } from "../../../src/install/types";
import type { HostData } from "../../../src/plan/types";
import type { Output } from "../../../src/ui/output";
import { sampleFacts } from "../facts/sample-facts";

const LABEL = "root@192.0.2.7:22";
let dir: string | null = null;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = null;
});

function factsOf(os: "ubuntu" | "installer" | "nixos") {
  const f = sampleFacts();
  if (os !== "ubuntu")
    f.os = { ...f.os, id: "nixos", isNixos: true, isNixosInstaller: os === "installer", prettyName: "NixOS 25.11" };
  return f;
}

function printed() {
  const lines: string[] = [];
  const out = {
    info: (m: string) => lines.push(`info: ${m}`),
    warn: (m: string) => lines.push(`warn: ${m}`),
  } as unknown as Output;
  return { out, lines };
}

describe("check-phases: no disko on a running system", () => {
  it.each([
    ["ubuntu", "disko,install,reboot", true],
    ["ubuntu", "disko", true],
    ["nixos", "disko,install", true],
    ["ubuntu", "kexec,disko,install,reboot", false],
    ["ubuntu", "install,reboot", false],
    ["installer", "disko,install,reboot", false],
  ] as const)("%s target, --phases %s: refused %s", async (os, list, refused) => {
    const run = checkRequestedPhases({ phases: list.split(",") as InstallPhase[], facts: factsOf(os), label: LABEL });
    if (!refused) return expect(run).resolves.toBeUndefined();
    const e = await run.catch((x: unknown) => x);
    expect(e).toBeInstanceOf(UserError);
    expect((e as UserError).field).toBe("--phases");
    expect((e as UserError).message).toContain(`--phases ${list}`);
    expect((e as UserError).message).toMatch(/wipe the disks of that running system/);
    expect((e as UserError).hint).toMatch(/include kexec \(--phases kexec,/);
  });

  it("without --phases there is nothing to refuse here (resume decides)", async () => {
    await expect(
      checkRequestedPhases({ phases: null, facts: factsOf("ubuntu"), label: LABEL }),
    ).resolves.toBeUndefined();
  });
});

describe("resolve-resume", () => {
  function flake(pinned: string | null): FlakeInfo {
    dir = mkdtempSync(join(tmpdir(), "nn-steps-"));
    const host = { ssh: { hostKeyFingerprint: pinned } } as unknown as HostData;
    return { dir, hostName: "node1", host, plan: null };
  }

  it("a fresh run runs every phase", async () => {
    const { out, lines } = printed();
    const r = await resolveResume({
      flake: flake(null),
      facts: factsOf("ubuntu"),
      label: LABEL,
      presented: "SHA256:old",
      phases: null,
      out,
    });
    expect(r).toMatchObject({
      runPhases: ["kexec", "disko", "install", "reboot"],
      resumedFrom: null,
      alreadyInstalled: false,
    });
    expect(lines).toEqual([]);
  });

  it("a target in the installer after kexec resumes without kexec, and says so", async () => {
    const { out, lines } = printed();
    const fl = flake("SHA256:new");
    writeInstallState(fl.dir, { ...freshInstallState(LABEL), phasesDone: ["kexec"] });
    const r = await resolveResume({
      flake: fl,
      facts: factsOf("installer"),
      label: LABEL,
      presented: "SHA256:old",
      phases: null,
      out,
    });
    expect(r.runPhases).toEqual(["disko", "install", "reboot"]);
    expect(r.resumedFrom).toBe("after kexec");
    expect(lines).toEqual([`info: Resuming the install of ${LABEL} after kexec: phases disko, install, reboot.`]);
  });

  it("a target back in its old OS although kexec had finished starts over", async () => {
    const { out, lines } = printed();
    const fl = flake("SHA256:new");
    writeInstallState(fl.dir, { ...freshInstallState(LABEL), phasesDone: ["kexec", "disko"] });
    const r = await resolveResume({
      flake: fl,
      facts: factsOf("ubuntu"),
      label: LABEL,
      presented: "SHA256:old",
      phases: null,
      out,
    });
    expect(r.runPhases).toEqual(["kexec", "disko", "install", "reboot"]);
    expect(r.state.phasesDone).toEqual([]);
    expect(lines[0]).toMatch(/^warn: .* again although kexec had finished: starting the install over\.$/);
  });

  it("the installed system with the pinned key only needs verifying", async () => {
    const { out } = printed();
    const r = await resolveResume({
      flake: flake("SHA256:new"),
      facts: factsOf("nixos"),
      label: LABEL,
      presented: "SHA256:new",
      phases: null,
      out,
    });
    expect(r).toMatchObject({ alreadyInstalled: true, runPhases: [] });
    const skipped = INSTALL_STEPS.filter((s) => s.skip?.({ alreadyInstalled: true } as never)).map((s) => s.name);
    expect(skipped).toEqual(["gate", "stage-host-key", "run-engine"]);
  });
});

describe("gate: the engine", () => {
  const KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl op";
  function gate(engine: InstallDeps["engine"], onPath: string[]) {
    const asked: string[] = [];
    const host = { ssh: { authorizedKeys: [KEY], adminUser: null, hostKeyFingerprint: null } } as unknown as HostData;
    const run = gateDestructive({
      facts: factsOf("ubuntu"),
      flake: { dir: "/nonexistent", hostName: "node1", host, plan: null },
      label: LABEL,
      runPhases: ["kexec", "disko", "install", "reboot"],
      operatorPublicKeys: [KEY],
      engine,
      which: (n) => (onPath.includes(n) ? `/usr/bin/${n}` : null),
      confirmErase: async (lines) => void asked.push(...lines),
    });
    return { run, asked };
  }

  it("nixos-anywhere with OpenSSH on PATH, after the erase was confirmed", async () => {
    const { run, asked } = gate("auto", ["nixos-anywhere", "ssh"]);
    await expect(run).resolves.toEqual({ engineName: "nixos-anywhere" });
    expect(asked.join("\n")).toMatch(/ERASED/);
  });

  it("without OpenSSH's ssh its connections cannot be pinned: auto takes the built-in engine", async () => {
    await expect(gate("auto", ["nixos-anywhere"]).run).resolves.toEqual({ engineName: "builtin" });
  });

  it("--engine nixos-anywhere without ssh is refused naming --engine, before the erase is asked", async () => {
    const { run, asked } = gate("nixos-anywhere", ["nixos-anywhere"]);
    const e = await run.catch((x: unknown) => x);
    expect((e as UserError).field).toBe("--engine");
    expect((e as UserError).message).toMatch(/ssh is not on PATH/);
    expect(asked).toEqual([]);
  });
});

describe("the step runner", () => {
  it("closes the primary session when a later step fails, and reports that step's error", async () => {
    let open = true;
    const session = { close: async () => void (open = false) } as unknown as InstallSession;
    const log = { write: () => undefined } as unknown as InstallDeps["log"];
    const steps: InstallStep[] = [
      { name: "connect", run: async () => ({ session }) },
      {
        name: "boom",
        run: async () => {
          throw new UserError("--phases: refused", { field: "--phases" });
        },
      },
    ];
    await expect(runInstall({ log } as InstallDeps, steps)).rejects.toThrow(/--phases: refused/);
    expect(open).toBe(false);
  });
});
