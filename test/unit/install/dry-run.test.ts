// install --dry-run walks INSTALL_STEPS itself: every step in order, each step's own skip reason, the
// engine's command with placeholders, and nothing asked or written (same context fakes as
// install-steps.test.ts: a probe, a session and detect that answer from sample facts).
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { InternalError } from "../../../src/errors";
import { dryRunInstall, formatDryRunStep, type DryRunStep } from "../../../src/install/dry-run";
import { INSTALL_STEPS } from "../../../src/install/run-install";
import type { InstallDeps, InstallSession } from "../../../src/install/types";
import type { HostData } from "../../../src/plan/types";
import type { Output } from "../../../src/ui/output";
import { sampleFacts } from "../facts/sample-facts";

const KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl op";
const OLD = "SHA256:oldsystemkey";
const PINNED = "SHA256:pinnednewkey";
const INSTALLED = "the target already runs the installed system with the pinned host key";

let dir: string | null = null;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = null;
});

function fakes(target: "ubuntu" | "installed") {
  dir = mkdtempSync(join(tmpdir(), "nn-dry-run-"));
  writeFileSync(join(dir, "flake.nix"), "{ }\n");
  const facts = sampleFacts();
  if (target === "installed")
    facts.os = { ...facts.os, id: "nixos", isNixos: true, isNixosInstaller: false, prettyName: "NixOS 25.11" };
  const presented = target === "installed" ? PINNED : OLD;
  const pinned = target === "installed" ? PINNED : null;
  const host = {
    stateVersion: "25.11",
    ssh: { authorizedKeys: [KEY], adminUser: null, hostKeyFingerprint: pinned },
  } as unknown as HostData;
  const events = { asked: 0, sessionsOpen: 0, printed: [] as string[] };
  const session = {
    hostKeyFingerprint: presented,
    close: async () => void events.sessionsOpen--,
  } as unknown as InstallSession;
  const out = {
    json: false,
    interactive: false,
    info: (m: string) => events.printed.push(m),
    warn: (m: string) => events.printed.push(`warn: ${m}`),
  } as unknown as Output;
  const deps = {
    out,
    log: { write: () => undefined, addSecret: () => undefined, path: null },
    signal: new AbortController().signal,
    env: {},
    destination: { user: "root", host: "192.0.2.7", port: 22 },
    knownPinnedHostKey: pinned,
    probeHostKey: async () => ({ kind: "key", fingerprint: presented, publicKey: `ssh-ed25519 AAAA${target}` }),
    connect: async () => {
      events.sessionsOpen++;
      return session;
    },
    detect: async () => facts,
    obtainFlake: async () => ({ dir: dir!, hostName: "node1", host, plan: null }),
    confirmErase: async () => void events.asked++,
    engine: "auto",
    which: (n: string) => (["nixos-anywhere", "ssh"].includes(n) ? `/usr/bin/${n}` : null),
    phases: null,
    rebootTimeoutMs: null,
    copyFlakeToEtc: false,
    identityFile: "/home/op/.ssh/id_ed25519",
    operatorIdentities: async () => {
      throw new Error("a dry run must not load the operator's private keys");
    },
    operatorPublicKeys: [KEY],
    password: null,
    trustHostKey: async () => {
      throw new Error("a dry run must not write known_hosts");
    },
    lockdown: null,
  } as unknown as InstallDeps;
  return { deps, events, dir };
}

async function dryRun(target: "ubuntu" | "installed") {
  const f = fakes(target);
  const reported: DryRunStep[] = [];
  const listed = await dryRunInstall(f.deps, (s) => reported.push(s));
  return { ...f, listed, reported };
}

describe("install --dry-run", () => {
  it("a fresh Ubuntu target: every step of INSTALL_STEPS would run, with nixos-anywhere's argv", async () => {
    const { listed, reported, events, dir } = await dryRun("ubuntu");
    expect(listed.map((s) => [s.name, s.status, s.reason])).toEqual(
      INSTALL_STEPS.map((s) => [s.name, "would-run", null]),
    );
    expect(reported).toEqual(listed);
    // connect, check-phases, load-flake and resolve-resume ran (read-only); the rest are described only
    expect(listed.filter((s) => s.ranReadOnly).map((s) => s.name)).toEqual([
      "connect",
      "check-phases",
      "load-flake",
      "resolve-resume",
    ]);
    const engine = listed.find((s) => s.name === "run-engine")!;
    expect(engine.command!.slice(0, 5)).toEqual([
      "/usr/bin/nixos-anywhere",
      "--flake",
      `${dir}#node1`,
      "-i",
      "/home/op/.ssh/id_ed25519",
    ]);
    expect(engine.command![engine.command!.indexOf("--extra-files") + 1]).toBe("<staged-host-key-dir>");
    expect(engine.command![engine.command!.indexOf("--kexec") + 1]).toBe("<kexec-tarball-checked-here>");
    // this flake has no hardware description yet: nixos-anywhere would write facter.json
    expect(engine.command).toContain("--generate-hardware-config");
    expect(engine.command!.at(-1)).toBe("root@192.0.2.7");
    expect(listed.find((s) => s.name === "stage-host-key")!.detail[0]).toMatch(/would generate a new ed25519 host key/);
    expect(listed.find((s) => s.name === "gate")!.detail.join("\n")).toMatch(
      /ERASED[\s\S]*would ask to type "node1".*not asked in a dry run/,
    );
    // nothing asked, nothing written into the flake (no state.json, no host key), the session closed
    expect(events.asked).toBe(0);
    expect(readdirSync(dir).sort()).toEqual(["flake.nix"]);
    expect(events.sessionsOpen).toBe(0);
    expect(formatDryRunStep(engine)).toMatch(
      /^› run-engine: would run\n[\s\S]*\n {4}\$ \/usr\/bin\/nixos-anywhere --flake '\S+#node1' -i \/home\/op\/\.ssh\/id_ed25519 --extra-files '<staged-host-key-dir>' /,
    );
  });

  it("an already-installed node: gate, stage-host-key and run-engine are skipped with their reason", async () => {
    const { listed, events, dir } = await dryRun("installed");
    expect(listed.map((s) => [s.name, s.status, s.reason])).toEqual(
      INSTALL_STEPS.map((s) =>
        ["gate", "stage-host-key", "run-engine"].includes(s.name)
          ? [s.name, "skipped", INSTALLED]
          : [s.name, "would-run", null],
      ),
    );
    expect(listed.find((s) => s.name === "run-engine")!.command).toBeNull();
    expect(listed.find((s) => s.name === "resolve-resume")!.detail).toEqual([
      "the target already runs the installed system: only verify and hand over",
    ]);
    expect(formatDryRunStep(listed.find((s) => s.name === "gate")!)).toBe(`↓ gate: skipped (${INSTALLED})`);
    expect(events.asked).toBe(0);
    expect(existsSync(join(dir, ".nixnode"))).toBe(false);
    expect(events.sessionsOpen).toBe(0);
  });

  it("a step the dry run cannot describe stops it instead of being passed over silently", async () => {
    const { deps } = fakes("ubuntu");
    const steps = [...INSTALL_STEPS.slice(0, 1), { name: "new-step", run: async () => undefined }];
    await expect(dryRunInstall(deps, () => undefined, steps)).rejects.toBeInstanceOf(InternalError);
  });
});
