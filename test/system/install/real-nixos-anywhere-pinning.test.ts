// The contract behind the stand-in's SSH behaviour, held against the REAL nixos-anywhere 1.13 script
// when one is given (NIXNODE_REAL_NIXOS_ANYWHERE=/path/to/src/nixos-anywhere.sh of the 1.13.0 tag,
// get-facts.sh beside it; it is not part of this repository). Its own ssh -G, ssh-copy-id, facts and
// kexec upload run through the pinned ssh wrapper: with the verified key they get through (a harmless
// kexec payload runs on the target); with a changed key ssh refuses before logging in, 1.13 retries
// forever and nothing runs; without the wrapper the same changed key is accepted and the payload runs.
import { execFileSync, spawn } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createPinnedSsh, isHostKeyRefusal, type PinnedSsh } from "../../../src/install/ssh-wrapper";
import { makeKeyPair } from "../../helpers/ssh-keys";
import { startTarget, targetsSupported, type TestTarget } from "../../targets/index";

const SCRIPT = process.env.NIXNODE_REAL_NIXOS_ANYWHERE ?? "";
const supported = targetsSupported();
const skip = !supported.ok
  ? supported.reason
  : !SCRIPT
    ? "set NIXNODE_REAL_NIXOS_ANYWHERE to nixos-anywhere 1.13.0's src/nixos-anywhere.sh"
    : !existsSync(SCRIPT)
      ? `${SCRIPT} does not exist`
      : null;

let t: TestTarget | null = null;
let pinned: PinnedSsh | null = null;
let work: string | null = null;
afterEach(async () => {
  pinned?.cleanup();
  await t?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
  t = pinned = work = null;
});

/** Runs the script; stops it at the first refused host key (as the tool does) or after `ms`. */
function runScript(env: NodeJS.ProcessEnv, args: string[], ms: number) {
  return new Promise<{ out: string; refused: boolean }>((resolve) => {
    const c = spawn("bash", [SCRIPT, ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let refused = false;
    const onData = (d: Buffer) => {
      out += d;
      if (!refused && out.split("\n").some(isHostKeyRefusal)) {
        refused = true;
        c.kill("SIGTERM");
      }
    };
    c.stdout.on("data", onData);
    c.stderr.on("data", onData);
    const timer = setTimeout(() => c.kill("SIGTERM"), ms);
    c.on("close", () => (clearTimeout(timer), resolve({ out, refused })));
  });
}

describe.skipIf(skip !== null)(
  `the real nixos-anywhere 1.13 through the pinned ssh ${skip ? `(skipped: ${skip})` : ""}`,
  () => {
    it.each([
      ["the verified key", "pinned", false, true],
      ["a key changed after the check", "pinned", true, false],
      ["a key changed, without the wrapper (1.13 as shipped)", "unpinned", true, true],
    ] as const)(
      "%s",
      async (_name, how, changeKey, payloadRuns) => {
        work = mkdtempSync(join(tmpdir(), "nn-real-na-"));
        const home = join(work, "home");
        mkdirSync(join(home, ".ssh"), { recursive: true, mode: 0o700 });
        const key = await makeKeyPair(join(home, ".ssh"));
        t = await startTarget({ virt: "kvm", memoryMiB: 4096, authorizedKeys: [key.publicKey] });
        if (!existsSync("/usr/bin/cpio")) await t.writeFile("/usr/local/sbin/cpio", "#!/bin/sh\necho cpio\n", 0o755);
        pinned = createPinnedSsh("/usr/bin/ssh", [readFileSync(`${t.hostKeyPath}.pub`, "utf8")]);
        if (changeKey) {
          const r = await t.exec(
            `rm -f '${t.hostKeyPath}' '${t.hostKeyPath}.pub' && ssh-keygen -q -t ed25519 -N '' -f '${t.hostKeyPath}'`,
          );
          expect(r.code, r.stderr).toBe(0);
          await t.restartSshd();
        }
        // a harmless "kexec image": its run script only leaves a marker on the target
        mkdirSync(join(work, "img", "kexec"), { recursive: true });
        writeFileSync(join(work, "img", "kexec", "run"), "#!/bin/sh\necho ran > /root/nn-real-na-marker\nexit 1\n");
        chmodSync(join(work, "img", "kexec", "run"), 0o755);
        const tarball = join(work, "kexec.tar.gz");
        execFileSync("tar", ["-C", join(work, "img"), "-czf", tarball, "kexec"]);
        const env = how === "pinned" ? pinned.env({ PATH: process.env.PATH }) : { PATH: process.env.PATH };
        // --build-on local and store paths: nothing is built; --phases kexec: the payload is the last step
        const r = await runScript(
          { ...env, HOME: home },
          [
            "--build-on",
            "local",
            "--store-paths",
            "/bin/sh",
            "/bin/sh",
            "--phases",
            "kexec",
            "--kexec",
            tarball,
          ].concat(["-i", key.privatePath, `root@${t.address}`]),
          60_000,
        );
        const marker = (await t.exec("cat /root/nn-real-na-marker 2>/dev/null || echo absent")).stdout.trim();
        expect(marker, r.out).toBe(payloadRuns ? "ran" : "absent");
        expect(r.refused, r.out).toBe(how === "pinned" && changeKey);
        if (how === "pinned" && !changeKey) expect(r.out).toMatch(/### Gathering machine facts ###/);
        if (r.refused) expect(r.out).not.toMatch(/### Gathering machine facts ###/);
      },
      120_000,
    );
  },
);
