// The ssh wrapper put first on nixos-anywhere's PATH: with the exact argv nixos-anywhere 1.13 passes
// (`-o UserKnownHostsFile=/dev/null -o StrictHostKeyChecking=no` first), the REAL OpenSSH client's
// effective settings (`ssh -G`) are strict checking against the run's own known_hosts; and the
// wrapper only moves arguments: a hostile remote command reaches ssh byte for byte.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createPinnedSsh, isHostKeyRefusal, PINNED_HOST_ALIAS, type PinnedSsh } from "../../../src/install/ssh-wrapper";

const KEY_A = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl";
const KEY_B = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFvH3jfdsjw9KHbHyeTzBwwbaMvgiXLLZ1TKOFKL0Ff2";
// sshArgs of nixos-anywhere 1.13 (src/nixos-anywhere.sh line 69) with -p and one --ssh-option
const NA_ARGS = [
  "-o",
  "IdentitiesOnly=yes",
  "-i",
  "/tmp/na/nixos-anywhere",
  "-o",
  "UserKnownHostsFile=/dev/null",
  "-o",
  "StrictHostKeyChecking=no",
  "-p",
  "2222",
  "-o",
  "ServerAliveInterval=5",
];
const REAL_SSH = ["/usr/bin/ssh", "/bin/ssh"].find((p) => existsSync(p));
let pinned: PinnedSsh | null = null;
let scratch: string | null = null;
afterEach(() => {
  pinned?.cleanup();
  pinned = null;
  if (scratch) rmSync(scratch, { recursive: true, force: true });
  scratch = null;
});

function effective(path: string, args: string[]): Record<string, string> {
  const home = mkdtempSync(join(tmpdir(), "nn-ssh-home-"));
  let out: string;
  try {
    out = execFileSync("ssh", args, { env: { PATH: path, HOME: home }, encoding: "utf8", stdio: "pipe" });
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
  return Object.fromEntries(
    out
      .split("\n")
      .filter(Boolean)
      .map((l) => [l.slice(0, l.indexOf(" ")), l.slice(l.indexOf(" ") + 1)]),
  );
}

describe.skipIf(!REAL_SSH)("ssh wrapper with the real OpenSSH client", () => {
  it("without it, nixos-anywhere's argv disables checking even with --ssh-option StrictHostKeyChecking=yes", () => {
    const g = effective("/usr/bin:/bin", [...NA_ARGS, "-o", "StrictHostKeyChecking=yes", "-G", "root@192.0.2.7"]);
    expect(g.stricthostkeychecking).toBe("false");
    expect(g.userknownhostsfile).toBe("/dev/null");
  });

  it("through it, `ssh -G` with the same argv says strict checking against exactly the verified keys", () => {
    pinned = createPinnedSsh(REAL_SSH!, [KEY_A, `${KEY_B} comment`]);
    const g = effective(`${pinned.dir}:/usr/bin:/bin`, [...NA_ARGS, "-G", "root@192.0.2.7"]);
    expect(g.stricthostkeychecking).toBe("true");
    expect(g.userknownhostsfile).toBe(pinned.knownHostsFile);
    expect(g.globalknownhostsfile).toBe("/dev/null");
    expect(g.hostkeyalias).toBe(PINNED_HOST_ALIAS);
    expect(g.hostkeyalgorithms).toBe("ssh-ed25519");
    expect(g.controlpath).toBeUndefined();
    // what nixos-anywhere asked for otherwise still holds
    expect(g.port).toBe("2222");
    expect(g.user).toBe("root");
    expect(g.serveraliveinterval).toBe("5");
    expect(g.identitiesonly).toBe("yes");
    expect(readFileSync(pinned.knownHostsFile, "utf8")).toBe(
      `${PINNED_HOST_ALIAS},[${PINNED_HOST_ALIAS}]:* ${KEY_A}\n${PINNED_HOST_ALIAS},[${PINNED_HOST_ALIAS}]:* ${KEY_B}\n`,
    );
    expect(statSync(pinned.dir).mode & 0o777).toBe(0o700);
    expect(statSync(join(pinned.dir, "ssh")).mode & 0o777).toBe(0o700);
    expect(statSync(pinned.knownHostsFile).mode & 0o777).toBe(0o600);
  });

  it("ssh-copy-id's and the `timeout 10 ssh` forms are pinned too", () => {
    pinned = createPinnedSsh(REAL_SSH!, [KEY_A]);
    const copyId = effective(`${pinned.dir}:/usr/bin:/bin`, [
      "-a",
      "-x",
      "-i",
      "/tmp/id",
      "-o",
      "ControlPath=none",
      "-o",
      "IdentitiesOnly=no",
      "-o",
      "ConnectTimeout=10",
      ...NA_ARGS,
      "-G",
      "root@192.0.2.7",
    ]);
    expect(copyId.stricthostkeychecking).toBe("true");
    expect(copyId.userknownhostsfile).toBe(pinned.knownHostsFile);
    const joined = effective(`${pinned.dir}:/usr/bin:/bin`, [
      "-oUserKnownHostsFile=/dev/null",
      "-oStrictHostKeyChecking=no",
      "-G",
      "root@192.0.2.7",
    ]);
    expect(joined.stricthostkeychecking).toBe("true");
  });
});

describe("ssh wrapper argument handling", () => {
  function argvSeenBy(args: string[]): string[] {
    scratch = mkdtempSync(join(tmpdir(), "nn-fake-ssh-"));
    const fake = join(scratch, "real-ssh");
    // prints each argument NUL-terminated, so newlines inside arguments survive
    writeFileSync(fake, `#!/bin/sh\nfor a do printf '%s\\0' "$a"; done\n`, { mode: 0o755 });
    pinned = createPinnedSsh(fake, [KEY_A]);
    const r = spawnSync(join(pinned.dir, "ssh"), args, { encoding: "utf8", stdio: "pipe" });
    expect(r.status, r.stderr).toBe(0);
    return r.stdout.split("\0").slice(0, -1);
  }

  it("drops the two unchecking options before the command and passes the rest unchanged", () => {
    const hostile = ["-o", "UserKnownHostsFile=/dev/null", "$(touch /tmp/x)", "a 'b' \"c\"\nd", "*", "-o"];
    const seen = argvSeenBy(["-T", ...NA_ARGS, "root@h", "-o", "ConnectTimeout=10", "sh", ...hostile]);
    const front = seen.slice(0, 14);
    expect(front).toEqual([
      "-o",
      "StrictHostKeyChecking=yes",
      "-o",
      `UserKnownHostsFile=${pinned!.knownHostsFile}`,
      "-o",
      "GlobalKnownHostsFile=/dev/null",
      "-o",
      `HostKeyAlias=${PINNED_HOST_ALIAS}`,
      "-o",
      "HostKeyAlgorithms=ssh-ed25519",
      "-o",
      "UpdateHostKeys=no",
      "-o",
      "ControlPath=none",
    ]);
    expect(seen.slice(14)).toEqual([
      "-T",
      "-o",
      "IdentitiesOnly=yes",
      "-i",
      "/tmp/na/nixos-anywhere",
      "-p",
      "2222",
      "-o",
      "ServerAliveInterval=5",
      "root@h",
      "-o",
      "ConnectTimeout=10",
      "sh",
      ...hostile,
    ]);
  });

  it("keeps everything after -- as the command", () => {
    const seen = argvSeenBy([...NA_ARGS, "root@h", "--", "exit", "0", "-o", "StrictHostKeyChecking=no"]);
    expect(seen.slice(-6)).toEqual(["root@h", "--", "exit", "0", "-o", "StrictHostKeyChecking=no"]);
    expect(seen.filter((a) => a === "UserKnownHostsFile=/dev/null")).toEqual([]);
  });

  it("refuses to pin anything but ed25519 key lines", () => {
    expect(() => createPinnedSsh("/usr/bin/ssh", ["ssh-ed25519 AAAA;rm -rf /"])).toThrow(/not an ssh-ed25519/);
    expect(() => createPinnedSsh("/usr/bin/ssh", [])).toThrow(/no verified host key/);
  });

  it("recognises ssh's host key refusals, also as ssh-copy-id reprints them", () => {
    expect(isHostKeyRefusal("Host key verification failed.")).toBe(true);
    expect(isHostKeyRefusal("ERROR: Host key verification failed.")).toBe(true);
    expect(isHostKeyRefusal("@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @")).toBe(true);
    expect(isHostKeyRefusal("ssh: connect to host 192.0.2.7 port 22: Connection refused")).toBe(false);
  });
});
