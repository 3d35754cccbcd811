// `install --local` at the console of a machine booted from the NixOS installer: the tool runs INSIDE a
// throwaway target (its namespaces, through test/targets/enter.sh) whose personality is the installer
// (stand-in nix / nixos-install, a private /mnt) and whose boot medium is a loop device backed by a
// sparse file, mounted at /iso as the official ISO mounts itself. The system disk is the target's
// stand-in disk image, which only the stand-in disko script overwrites.
import { execFile, execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  readdirSync,
  writeFileSync,
} from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { BIN } from "../../helpers/cli";
import { tmuxServer } from "../../helpers/tmux";
import { startTarget, targetsSupported, type TestTarget } from "../../targets/index";
import { addKexecPersonality } from "../../targets/standins/kexec-personality";
import { byIdOf, presentDisks } from "../../targets/standins/installer/disks.mjs";

const run = promisify(execFile);
const EFFECTS = fileURLToPath(new URL("../../targets/standins/lib/target-effects.mjs", import.meta.url));
const ENTER = fileURLToPath(new URL("../../targets/enter.sh", import.meta.url));
const KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl operator@laptop";
const supported = targetsSupported();
// the stand-in disko partitions the target's loop disk as the flake's layout says (sfdisk, and the
// layout evaluated by the real nix-instantiate); scripts/test.sh installs both
const partitioning =
  existsSync("/usr/sbin/sfdisk") && spawnSync("nix-instantiate", ["--version"], { encoding: "utf8" }).status === 0;

interface Console {
  t: TestTarget;
  work: string;
  /** The boot stick's real loop device (/dev/loopN), what /iso is mounted from. */
  stick: string;
  /** The path the installer's lsblk (and so the probe) gives the stick (/dev/vdy), and its by-id link. */
  stickDisk: string;
  stickById: string;
  stickFile: string;
  /** The system disk: its loop device, and the sparse file behind it. */
  disk: string;
  /** Its stable name inside the target (the by-id link the plan uses). */
  diskById: string;
  /** The disk-like kernel names the installer's lsblk gives the two disks. */
  diskName: string;
  secondDiskName: string;
  diskFile: string;
  /** The kexec personality's stand-in disk image (written only when no disk of the layout is the target's). */
  standinImage: string;
  cleanup(): Promise<void>;
}
let c: Console | null = null;
let server: Server | null = null;
afterEach(async () => {
  await c?.cleanup();
  c = null;
  server?.close();
  server = null;
});

/** `secondDisk`: another disk of that size, so that the wizard asks which one is the system disk. */
async function installerConsole(opts: { secondDisk?: string } = {}): Promise<Console> {
  const t = await startTarget({ virt: "kvm", memoryMiB: 4096 });
  const cleanups: Array<() => unknown> = [() => t.stop()];
  try {
    if (!existsSync("/usr/bin/cpio"))
      await t.writeFile("/usr/local/sbin/cpio", "#!/bin/sh\necho 'cpio (test stand-in)'\n", 0o755);
    const { diskImage } = addKexecPersonality(t);
    await run(
      process.execPath,
      [
        "--input-type=module",
        "-e",
        `import { becomeInstaller, findTarget } from ${JSON.stringify(EFFECTS)};
         becomeInstaller(findTarget(${JSON.stringify(t.address)}, 22));`,
      ],
      { env: { ...process.env, NIXNODE_STANDIN_TARGETS: t.dir } },
    );
    // the USB stick: a sparse file on a loop device with a filesystem, mounted at /iso inside the target.
    // 32G and not removable (a USB SSD reports rm=0), so that the wizard would offer it as a disk if the
    // boot-medium filter did not take it out: nothing else keeps it from the list
    const img = join(t.dir, "usb-stick.img");
    execFileSync("truncate", ["-s", "32G", img]);
    execFileSync("mkfs.ext4", ["-q", "-F", "-L", "nixos-26.05", img]);
    const stick = execFileSync("losetup", ["--find", "--show", img], { encoding: "utf8" }).trim();
    cleanups.unshift(() => execFileSync("losetup", ["-d", stick]));
    execFileSync(ENTER, [t.dir, "sh", "-c", `mkdir -p /iso && mount -o ro ${stick} /iso`]);
    // the machine's own disk: a sparse file on a loop device, shown to the probe as a disk (disks.mjs)
    const diskFile = join(t.dir, "system-disk.img");
    execFileSync("truncate", ["-s", "8G", diskFile]);
    const disk = execFileSync("losetup", ["-P", "--find", "--show", diskFile], { encoding: "utf8" }).trim();
    cleanups.unshift(() => execFileSync("losetup", ["-d", disk]));
    // disk-like kernel names this host does not use itself (the host's root disk must not look like ours)
    const [name1, name2, name3] = ["vdw", "vdx", "vdy", "vdz", "sdx", "sdy", "sdz"].filter(
      (n) => !existsSync(`/sys/block/${n}`),
    );
    // the stick is shown as a disk too, under a disk-like name with its real MAJ:MIN (7:N), as a real
    // installer's lsblk shows /dev/sdb: it is told apart only by the device number mounted at /iso
    const stickDisk = {
      device: stick,
      name: name3!,
      model: "nixnode test stick",
      serial: `NNU-${t.name}`,
      tran: "usb",
    };
    const systemDisk = {
      device: disk,
      name: name1!,
      model: "nixnode test disk",
      serial: `NNT-${t.name}`,
      tran: "virtio",
    };
    const disks = [systemDisk, stickDisk];
    if (opts.secondDisk) {
      const f = join(t.dir, "second-disk.img");
      execFileSync("truncate", ["-s", opts.secondDisk, f]);
      const dev = execFileSync("losetup", ["-P", "--find", "--show", f], { encoding: "utf8" }).trim();
      cleanups.unshift(() => execFileSync("losetup", ["-d", dev]));
      disks.push({ device: dev, name: name2!, model: "nixnode test disk", serial: `NNT2-${t.name}`, tran: "virtio" });
    }
    presentDisks(t, disks);
    const work = join(t.dir, "console");
    mkdirSync(work, { recursive: true });
    return {
      t,
      work,
      stick,
      stickDisk: `/dev/${name3!}`,
      stickById: `/dev/disk/by-id/${byIdOf(stickDisk)}`,
      stickFile: img,
      disk,
      diskById: `/dev/disk/by-id/${byIdOf(systemDisk)}`,
      diskName: name1!,
      secondDiskName: name2!,
      diskFile,
      standinImage: diskImage,
      async cleanup() {
        for (const f of cleanups) {
          try {
            await f();
          } catch {
            // best effort: the next cleanup still runs
          }
        }
      },
    };
  } catch (e) {
    for (const f of cleanups) await Promise.resolve(f()).catch(() => undefined);
    throw e;
  }
}

/** argv that runs the built CLI as root at the target's console. */
function atConsole(con: Console, args: string[], env: Record<string, string> = {}): string[] {
  return [
    ENTER,
    con.t.dir,
    "env",
    "NO_COLOR=1",
    ...Object.entries(env).map(([k, v]) => `${k}=${v}`),
    process.execPath,
    BIN,
    ...args,
  ];
}

async function consoleRun(con: Console, args: string[], env: Record<string, string> = {}) {
  const [file, ...rest] = atConsole(con, args, env);
  try {
    const r = await run(file!, rest, { maxBuffer: 16 << 20, timeout: 90_000 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

/** SHA-256 of the first 16 MiB (where the partition table and the first partitions' headers are). */
const sha = (p: string) => {
  const fd = openSync(p, "r");
  try {
    const buf = Buffer.alloc(16 << 20);
    const n = readSync(fd, buf, 0, buf.length, 0);
    return createHash("sha256").update(buf.subarray(0, n)).digest("hex");
  } finally {
    closeSync(fd);
  }
};
const installerLog = (con: Console) =>
  readFileSync(join(con.t.dir, "root", ".nixnode-standin-installer.log"), "utf8")
    .trim()
    .split("\n")
    .map((l) =>
      l
        .split(" ")
        .slice(0, l.startsWith("nix ") ? 2 : 1)
        .join(" "),
    );

describe.skipIf(!supported.ok || !partitioning)(
  `install --local on the NixOS installer ${supported.ok ? (partitioning ? "" : "(skipped: no sfdisk or nix-instantiate)") : `(skipped: ${supported.reason})`}`,
  () => {
    it("--config --yes --json: evaluates, partitions, installs with the pinned key, copies the flake to /etc/nixos, ends with the lockdown command", async () => {
      c = await installerConsole();
      const cfg = join(c.work, "node.json");
      writeFileSync(cfg, JSON.stringify({ hostname: "rack7", ssh: { authorizedKeys: [KEY] } }));
      const flake = join(c.work, "flake", "rack7");
      const diskBefore = sha(c.diskFile);
      const r = await consoleRun(c, ["install", "--local", "--config", cfg, "--flake", flake, "--yes", "--json"]);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      const events = r.stdout
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as Record<string, any>);
      const result = events.find((e) => e.type === "result")!.data;
      // the whole system evaluated before disko, then disko and nixos-install, in that order
      expect(installerLog(c)).toEqual(["nix eval", "nix disko-script", "disko", "nixos-install"]);
      expect(readFileSync(join(c.t.dir, "root", ".nixnode-standin-installer.log"), "utf8")).toContain(
        `nixos-install --no-root-passwd --no-channel-copy --flake ${flake}#rack7`,
      );
      expect(sha(c.diskFile)).not.toBe(diskBefore);
      // the host key installed is the one pinned in host.json, and the result names it
      const host = JSON.parse(readFileSync(join(flake, "hosts", "rack7", "host.json"), "utf8"));
      expect(result.hostKeyFingerprint).toBe(host.ssh.hostKeyFingerprint);
      const mnt = join(c.t.dir, "standin-mnt");
      const pub = readFileSync(join(mnt, "etc", "ssh", "ssh_host_ed25519_key.pub"), "utf8");
      const fp = execFileSync("ssh-keygen", ["-lf", "-"], { input: pub, encoding: "utf8" });
      expect(fp).toContain(host.ssh.hostKeyFingerprint);
      // the flake is on the new system, its host key only encrypted (no private key in it)
      expect(readFileSync(join(mnt, "etc", "nixos", "hosts", "rack7", "host.json"), "utf8")).toBe(
        readFileSync(join(flake, "hosts", "rack7", "host.json"), "utf8"),
      );
      expect(existsSync(join(mnt, "etc", "nixos", "secrets", "host-key.age"))).toBe(true);
      const grep = spawnSync("grep", ["-rl", "PRIVATE KEY", join(mnt, "etc", "nixos")], { encoding: "utf8" });
      expect(grep.status, grep.stdout).toBe(1);
      // the boot medium was seen and kept out
      expect(result.bootMedium).toBe(c.stickDisk);
      // the next command for the operator's machine
      expect(result.addresses).toContain(c.t.address);
      expect(result.nextCommand).toBe(
        `nixnode-install lockdown root@${c.t.address} --flake ./rack7 --host-key ${host.ssh.hostKeyFingerprint}`,
      );
      expect(result.rebooting).toBe(false);
      // the same command again (e.g. after a failure at the console): the unbooted key cannot be decrypted
      // here and nobody pinned it, so a new one is made and installed
      const again = await consoleRun(c, ["install", "--local", "--config", cfg, "--flake", flake, "--yes", "--json"]);
      expect(again.code, again.stdout + again.stderr).toBe(0);
      const second = JSON.parse(again.stdout.trim().split("\n").pop()!).data;
      expect(second.hostKeyFingerprint).not.toBe(result.hostKeyFingerprint);
      expect(again.stdout).toContain("The earlier local run's host key never booted");
      const pub2 = readFileSync(join(mnt, "etc", "ssh", "ssh_host_ed25519_key.pub"), "utf8");
      expect(execFileSync("ssh-keygen", ["-lf", "-"], { input: pub2, encoding: "utf8" })).toContain(
        second.hostKeyFingerprint,
      );
    });

    it("--reboot: the machine comes back as the installed NixOS presenting the pinned host key", async () => {
      c = await installerConsole();
      const cfg = join(c.work, "node.json");
      writeFileSync(cfg, JSON.stringify({ hostname: "rack7", ssh: { authorizedKeys: [KEY] } }));
      const bootBefore = await c.t.bootId();
      const r = await consoleRun(c, [
        "install",
        "--local",
        "--config",
        cfg,
        "--flake",
        join(c.work, "rack7"),
        "--yes",
        "--json",
        "--reboot",
      ]);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      const result = JSON.parse(r.stdout.trim().split("\n").pop()!).data;
      expect(result.rebooting).toBe(true);
      const until = Date.now() + 60_000;
      while ((await c.t.bootId().catch(() => bootBefore)) === bootBefore && Date.now() < until)
        await new Promise((res) => setTimeout(res, 500));
      expect(await c.t.bootId()).not.toBe(bootBefore);
      let fp = "";
      while (Date.now() < until) {
        fp = await c.t.hostKeyFingerprint().catch(() => "");
        if (fp === result.hostKeyFingerprint) break;
        await new Promise((res) => setTimeout(res, 500));
      }
      expect(fp).toBe(result.hostKeyFingerprint);
      const os = (await c.t.exec("cat /etc/os-release")).stdout;
      expect(os).toMatch(/^ID=nixos$/m);
      expect(os).not.toMatch(/VARIANT_ID=installer/);
      // root gets in with the operator's key only
      const keys = (await c.t.exec("cat /root/.ssh/authorized_keys")).stdout
        .split("\n")
        .filter((l) => l.startsWith("ssh-"));
      expect(keys.map((k) => k.split(" ").slice(0, 2).join(" "))).toEqual([KEY.split(" ").slice(0, 2).join(" ")]);
    });

    it("a flake that does not evaluate stops before disko: disks untouched, nothing rebooted, Nix's error shown", async () => {
      c = await installerConsole();
      const cfg = join(c.work, "node.json");
      writeFileSync(cfg, JSON.stringify({ hostname: "rack7", ssh: { authorizedKeys: [KEY] } }));
      const flake = join(c.work, "rack7");
      const args = ["install", "--local", "--config", cfg, "--flake", flake, "--yes", "--json"];
      expect((await consoleRun(c, args)).code).toBe(0);
      // the operator's typo, as Nix would meet it
      const mod = join(flake, "hosts", "rack7", "default.nix");
      writeFileSync(mod, readFileSync(mod, "utf8").replace(/\}\s*$/, "  services.openssh.enabel = true;\n}\n"));
      const diskBefore = sha(c.diskFile);
      const bootBefore = await c.t.bootId();
      const logBefore = installerLog(c).length;
      const r = await consoleRun(c, args);
      expect(r.code, r.stdout + r.stderr).toBe(3);
      const err = r.stdout
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l))
        .find((e) => e.type === "error");
      expect(err.message).toMatch(
        /the system does not evaluate, so nothing was installed and the disks were not touched/,
      );
      expect(err.data.details.join("\n")).toMatch(/services\.openssh\.enabel' does not exist/);
      expect(installerLog(c).slice(logBefore)).toEqual(["nix eval"]);
      expect(sha(c.diskFile)).toBe(diskBefore);
      await new Promise((res) => setTimeout(res, 4000));
      expect(await c.t.bootId()).toBe(bootBefore);
    });

    it("the plan names the machine's own disk (the loop device shown as a disk), and THAT device gets the plan's partition table", async () => {
      c = await installerConsole();
      const cfg = join(c.work, "node.json");
      writeFileSync(cfg, JSON.stringify({ hostname: "rack7", ssh: { authorizedKeys: [KEY] } }));
      const flake = join(c.work, "rack7");
      const stickBefore = sha(c.stickFile);
      const imageBefore = createHash("sha256").update(readFileSync(c.standinImage)).digest("hex");
      const r = await consoleRun(c, ["install", "--local", "--config", cfg, "--flake", flake, "--yes", "--json"]);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      // the planner chose the one disk the probe saw, by its stable by-id name
      const plan = JSON.parse(readFileSync(join(flake, "nixnode.json"), "utf8"));
      expect(plan.disk.layout).toBe("ext4");
      expect(plan.disk.devices).toEqual([c.diskById]);
      const diskConfig = readFileSync(join(flake, "hosts", "rack7", "disk-config.nix"), "utf8");
      expect(diskConfig).toContain(`"${c.diskById}"`);
      // ...which, on this machine, is the loop device behind the sparse file
      expect(execFileSync(ENTER, [c.t.dir, "readlink", "-f", c.diskById], { encoding: "utf8" }).trim()).toBe(c.disk);
      const swap = /swapSize = "(\d+)([MG])";/.exec(diskConfig);
      expect(swap, diskConfig).not.toBeNull();
      const swapSectors = Number(swap![1]) * (swap![2] === "G" ? 1024 : 1) * 2048;
      // the ext4 layout (disko/ext4.nix): BIOS boot 1M, ESP 512M, swap, root = the rest, in that order
      const dump = execFileSync("sfdisk", ["--dump", c.disk], { encoding: "utf8" });
      expect(dump).toMatch(/^label: gpt$/m);
      const parts = dump
        .split("\n")
        .filter((l) => l.startsWith(`${c!.disk}p`))
        .map((l) => ({
          size: Number(/size=\s*(\d+)/.exec(l)![1]),
          type: /type=([0-9A-F-]+)/.exec(l)![1],
          name: /name="([^"]*)"/.exec(l)?.[1],
        }));
      expect(parts).toEqual([
        { size: 2048, type: "21686148-6449-6E6F-744E-656564454649", name: "disk-main-bios" },
        { size: 512 * 2048, type: "C12A7328-F81F-11D2-BA4B-00A0C93EC93B", name: "disk-main-ESP" },
        { size: swapSectors, type: "0657FD6D-A4AB-43C4-84E5-0933C84B4F4F", name: "disk-main-swap" },
        { size: expect.any(Number), type: "0FC63DAF-8483-4772-8E79-3D69D8477DE4", name: "disk-main-root" },
      ]);
      expect(parts[3]!.size).toBeGreaterThan(4 * 1024 * 2048);
      const fsType = (dev: string) =>
        execFileSync("blkid", ["-o", "value", "-s", "TYPE", dev], { encoding: "utf8" }).trim();
      expect(fsType(`${c.disk}p3`)).toBe("swap");
      expect(fsType(`${c.disk}p4`)).toBe("ext4");
      // nothing else was written: the stick, and the stand-in image the remote tests use
      expect(sha(c.stickFile)).toBe(stickBefore);
      expect(createHash("sha256").update(readFileSync(c.standinImage)).digest("hex")).toBe(imageBefore);
    });

    it("--dry-run: probes, plans in memory and lists the erase, disko, host key and nixos-install; the disks' bytes, /mnt and the flake folder untouched", async () => {
      c = await installerConsole();
      const cfg = join(c.work, "node.json");
      writeFileSync(cfg, JSON.stringify({ hostname: "rack7", ssh: { authorizedKeys: [KEY] } }));
      const flake = join(c.work, "flake", "rack7");
      const diskBefore = sha(c.diskFile);
      const stickBefore = sha(c.stickFile);
      const r = await consoleRun(c, ["install", "--local", "--config", cfg, "--flake", flake, "--dry-run", "--json"]);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      const events = r.stdout
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as { type: string; data?: Record<string, any> });
      const result = events.find((e) => e.type === "result")!.data!;
      expect(result.dryRun).toBe(true);
      const steps = result.steps as Array<{ name: string; detail: string[]; targetCommands: string[] | null }>;
      expect(steps.map((s) => s.name)).toEqual([
        "detect",
        "load-flake",
        "gate",
        "stage-host-key",
        "run-engine",
        "hand-over",
      ]);
      const gate = steps.find((s) => s.name === "gate")!.detail.join("\n");
      expect(gate).toContain("These disks will be ERASED:");
      expect(gate).toContain(c.diskById);
      expect(gate).not.toContain(c.stick);
      expect(gate).not.toContain(c.stickDisk);
      expect(steps.find((s) => s.name === "detect")!.detail.join("\n")).toContain(`booted from ${c.stickDisk}`);
      expect(steps.find((s) => s.name === "stage-host-key")!.detail.join("\n")).toMatch(
        /would generate a new ed25519 host key/,
      );
      const cmds = steps.find((s) => s.name === "run-engine")!.targetCommands!;
      expect(cmds.some((x) => x.includes("diskoScript"))).toBe(true);
      expect(cmds).toContain(`nixos-install --no-root-passwd --no-channel-copy --flake '${flake}#rack7'`);
      // nothing touched: the disks' first 16 MiB, /mnt, the flake folder; not even nix ran
      expect(sha(c.diskFile)).toBe(diskBefore);
      expect(sha(c.stickFile)).toBe(stickBefore);
      expect(readdirSync(join(c.t.dir, "standin-mnt"))).toEqual([".nixnode-standin-mnt"]);
      expect(existsSync(join(c.work, "flake"))).toBe(false);
      expect(existsSync(join(c.t.dir, "root", ".nixnode-standin-installer.log"))).toBe(false);
      expect(spawnSync("sfdisk", ["--dump", c.disk], { encoding: "utf8" }).stdout).not.toMatch(/label: gpt/);
    });

    it.each([
      // its /dev/disk/by-id link (what an operator copies), and the kernel's own name for it
      ["disk.devices[0]", "by-id", (path: string) => ({ devices: [path] })],
      ["disk.data.device", "kernel", (path: string) => ({ data: { device: path, mountpoint: "/data" } })],
    ] as const)(
      "refuses the USB stick it runs from when --config names it as %s (%s name) (exit 2), erasing nothing",
      async (field, how, disk) => {
        c = await installerConsole();
        const named = how === "by-id" ? c.stickById : c.stick;
        const cfg = join(c.work, "node.json");
        writeFileSync(cfg, JSON.stringify({ hostname: "rack7", ssh: { authorizedKeys: [KEY] }, disk: disk(named) }));
        const stickBefore = sha(c.stickFile);
        const diskBefore = sha(c.diskFile);
        const r = await consoleRun(c, [
          "install",
          "--local",
          "--config",
          cfg,
          "--flake",
          join(c.work, "f"),
          "--yes",
          "--json",
        ]);
        expect(r.code, r.stdout + r.stderr).toBe(2);
        const err = r.stdout
          .trim()
          .split("\n")
          .map((l) => JSON.parse(l))
          .find((e) => e.type === "error");
        expect(err.message).toBe(`${field}: ${named} is the USB stick this installer runs from (${c.stickDisk})`);
        expect(err.field).toBe(field);
        expect(sha(c.stickFile)).toBe(stickBefore);
        expect(sha(c.diskFile)).toBe(diskBefore);
        expect(existsSync(join(c.work, "f"))).toBe(false);
        expect(existsSync(join(c.t.dir, "root", ".nixnode-standin-installer.log"))).toBe(false);
      },
    );

    it.skipIf(!tmuxServer("nn-local").available)(
      "at the console: keys from GitHub (a mirror on the suite's veth) shown and confirmed, the host name typed, the end screen with the QR code, reboot declined",
      async () => {
        c = await installerConsole();
        const con = c;
        server = createServer((req, res) => {
          if (req.url === "/octocat.keys") res.end(`${KEY}\n`);
          else res.writeHead(404).end("Not Found");
        });
        await new Promise<void>((r) => server!.listen(0, con.t.operatorAddress, r));
        const base = `http://${con.t.operatorAddress}:${(server.address() as AddressInfo).port}`;
        const cfg = join(con.work, "node.json");
        writeFileSync(
          cfg,
          JSON.stringify({ hostname: "rack7", profile: "base", timezone: "UTC", fail2ban: { ignoreIP: [] } }),
        );
        const flake = join(con.work, "flake", "rack7");
        // a second stick the operator mounted to carry the flake home
        const carry = join(con.t.dir, "carry-stick.img");
        execFileSync("truncate", ["-s", "32M", carry]);
        execFileSync("mkfs.ext4", ["-q", "-F", carry]);
        const carryDev = execFileSync("losetup", ["--find", "--show", carry], { encoding: "utf8" }).trim();
        try {
          execFileSync(ENTER, [con.t.dir, "sh", "-c", `mkdir -p /media/stick && mount ${carryDev} /media/stick`]);
        } catch (e) {
          execFileSync("losetup", ["-d", carryDev]);
          throw e;
        }
        const argv = atConsole(
          con,
          ["install", "--local", "--config", cfg, "--flake", flake, "--github-keys", "octocat"],
          {
            TERM: "xterm-256color",
            NIXNODE_GITHUB_KEYS_BASE: base,
          },
        );
        const tm = tmuxServer("nn-local", { timeoutMs: 60_000 });
        const cmd = `${argv.map((a) => `'${a}'`).join(" ")}; echo "EXIT=$?"; sleep 600`;
        await tm.tmux("new-session", "-d", "-s", "console", "-x", "160", "-y", "80", cmd);
        try {
          const shown = await tm.waitFor("console", /Authorise these keys for root/);
          expect(shown).toContain("GitHub publishes 1 key(s) for octocat:");
          expect(shown).toContain(KEY);
          await tm.keys("console", "yes", "Enter");
          for (let i = 0; i < 10; i++) {
            const s = await tm.waitFor("console", /Type the host name|\?.*›/);
            if (/Type the host name/.test(s)) break;
            await tm.keys("console", "Enter");
            await new Promise((r) => setTimeout(r, 300));
          }
          const gate = await tm.waitFor("console", /Type the host name/);
          expect(gate).toMatch(/These disks will be ERASED:/);
          // the stick is named once, as the boot medium, and never among the disks to erase
          expect(gate).toContain(`booted from ${con.stickDisk} (never offered, never erased)`);
          expect(gate.slice(gate.indexOf("These disks will be ERASED:"))).not.toContain(con.stickDisk);
          await tm.keys("console", "rack7", "Enter");
          const end = await tm.waitFor("console", /Copy the flake to \/media\/stick\/rack7 too/, 90_000);
          const host = JSON.parse(readFileSync(join(flake, "hosts", "rack7", "host.json"), "utf8"));
          expect(host.ssh.authorizedKeys.map((k: string) => k.split(" ").slice(0, 2).join(" "))).toEqual([
            KEY.split(" ").slice(0, 2).join(" "),
          ]);
          expect(end).toContain(
            `nixnode-install lockdown root@${con.t.address} --flake ./rack7 --host-key ${host.ssh.hostKeyFingerprint}`,
          );
          expect(end).toContain("The same command as a QR code:");
          expect(end).toMatch(/[▀▄█]{20,}/);
          await tm.keys("console", "yes", "Enter");
          await tm.waitFor("console", /Copied the flake to \/media\/stick\/rack7/);
          // read the copy from inside the target, where the stick is mounted
          const copied = execFileSync(ENTER, [con.t.dir, "cat", "/media/stick/rack7/hosts/rack7/host.json"], {
            encoding: "utf8",
          });
          expect(copied).toBe(readFileSync(join(flake, "hosts", "rack7", "host.json"), "utf8"));
          await tm.waitFor("console", /Reboot into the new system now/);
          await tm.keys("console", "no", "Enter");
          const done = await tm.waitFor("console", /EXIT=\d+/);
          expect(done).toContain("EXIT=0");
          expect(done).toContain("Reboot when you are ready");
          expect(installerLog(con)).toEqual(["nix eval", "nix disko-script", "disko", "nixos-install"]);
        } finally {
          await tm.tmux("kill-server").catch(() => undefined);
          try {
            execFileSync(ENTER, [con.t.dir, "umount", "/media/stick"]);
          } catch {
            // the target's mount namespace goes with it anyway
          }
          execFileSync("losetup", ["-d", carryDev]);
        }
      },
    );

    it.skipIf(!tmuxServer("nn-local").available)(
      "at the console: the wizard's disk list holds the machine's disks and never the boot stick; a wrong host name at the erase gate cancels with every disk untouched",
      async () => {
        c = await installerConsole({ secondDisk: "16G" });
        const con = c;
        const cfg = join(con.work, "node.json");
        writeFileSync(
          cfg,
          JSON.stringify({ hostname: "rack7", profile: "base", timezone: "UTC", ssh: { authorizedKeys: [KEY] } }),
        );
        const before = [sha(con.diskFile), sha(join(con.t.dir, "second-disk.img")), sha(con.stickFile)];
        const argv = atConsole(con, ["install", "--local", "--config", cfg, "--flake", join(con.work, "rack7")], {
          TERM: "xterm-256color",
        });
        const tm = tmuxServer("nn-local", { timeoutMs: 60_000 });
        await tm.tmux(
          "new-session",
          "-d",
          "-s",
          "disks",
          "-x",
          "200",
          "-y",
          "80",
          `${argv.map((a) => `'${a}'`).join(" ")}; echo "EXIT=$?"; sleep 600`,
        );
        try {
          for (let i = 0; i < 10; i++) {
            const s = await tm.waitFor("disks", /System disk \(it is erased|\?.*›/);
            if (/System disk \(it is erased/.test(s)) break;
            await tm.keys("disks", "Enter");
            await new Promise((r) => setTimeout(r, 300));
          }
          const list = await tm.waitFor("disks", /System disk \(it is erased/);
          const offered = list.slice(list.indexOf("System disk (it is erased"));
          // both of the machine's own disks are offered, the stick it booted from is not
          expect(offered).toContain(`/dev/${con.diskName}`);
          expect(offered).toContain(`/dev/${con.secondDiskName}`);
          expect(offered).not.toContain("holds the current /");
          // the probe lists the stick (lsblk shows it as a disk); only the boot-medium filter keeps it out
          expect(offered).not.toContain(con.stickDisk);
          expect(offered).not.toContain(con.stick);
          expect(list).toContain(`booted from ${con.stickDisk} (never offered, never erased)`);
          // each question in turn, its default taken (an answered line also matches `? ... ›`, so wait by name)
          await tm.keys("disks", "Enter");
          for (const q of [/A separate data disk/, /SSH port after lockdown/, /Addresses fail2ban must never ban/]) {
            await tm.waitFor("disks", q);
            await tm.keys("disks", "Enter");
          }
          const gate = await tm.waitFor("disks", /Type the host name/);
          expect(gate.slice(gate.indexOf("These disks will be ERASED:"))).not.toContain(con.stickDisk);
          await tm.keys("disks", "rack8", "Enter");
          const done = await tm.waitFor("disks", /EXIT=\d+/);
          expect(done).toContain("EXIT=130");
          expect(done).toContain('"rack8" is not "rack7": nothing was erased');
        } finally {
          await tm.tmux("kill-server").catch(() => undefined);
        }
        expect([sha(con.diskFile), sha(join(con.t.dir, "second-disk.img")), sha(con.stickFile)]).toEqual(before);
        expect(existsSync(join(con.t.dir, "root", ".nixnode-standin-installer.log"))).toBe(false);
      },
    );

    it.skipIf(!tmuxServer("nn-local").available)(
      "no DHCP answer: the static address typed at the console is the installed system's network and the lockdown command's address",
      async () => {
        c = await installerConsole();
        const con = c;
        // the installer's network got no lease: no global address left inside the target
        execFileSync(ENTER, [con.t.dir, "ip", "addr", "flush", "scope", "global"]);
        const cfg = join(con.work, "node.json");
        writeFileSync(
          cfg,
          JSON.stringify({ hostname: "rack7", profile: "base", timezone: "UTC", ssh: { authorizedKeys: [KEY] } }),
        );
        const flake = join(con.work, "flake", "rack7");
        const argv = atConsole(con, ["install", "--local", "--config", cfg, "--flake", flake], {
          TERM: "xterm-256color",
        });
        const tm = tmuxServer("nn-local", { timeoutMs: 60_000 });
        await tm.tmux(
          "new-session",
          "-d",
          "-s",
          "nodhcp",
          "-x",
          "200",
          "-y",
          "80",
          `${argv.map((a) => `'${a}'`).join(" ")}; echo "EXIT=$?"; sleep 600`,
        );
        try {
          await tm.waitFor("nodhcp", /has no network address/);
          await tm.keys("nodhcp", "192.0.2.7/24 via 192.0.2.1", "Enter");
          for (let i = 0; i < 10; i++) {
            const s = await tm.waitFor("nodhcp", /Type the host name|\?.*›/);
            if (/Type the host name/.test(s)) break;
            await tm.keys("nodhcp", "Enter");
            await new Promise((r) => setTimeout(r, 300));
          }
          await tm.waitFor("nodhcp", /Type the host name/);
          await tm.keys("nodhcp", "rack7", "Enter");
          const end = await tm.waitFor("nodhcp", /Reboot into the new system now/, 90_000);
          expect(end).toContain("nixnode-install lockdown root@192.0.2.7 --flake ./rack7 --host-key SHA256:");
          await tm.keys("nodhcp", "no", "Enter");
          expect(await tm.waitFor("nodhcp", /EXIT=\d+/)).toContain("EXIT=0");
          const host = JSON.parse(readFileSync(join(flake, "hosts", "rack7", "host.json"), "utf8"));
          const nic = host.network.interfaces.find((i: { addresses: string[] }) => i.addresses.length);
          expect(nic.addresses).toEqual(["192.0.2.7/24"]);
          expect(nic.dhcp4).toBe(false);
          expect(nic.routes).toContainEqual({ destination: "0.0.0.0/0", gateway: "192.0.2.1", onLink: false });
        } finally {
          await tm.tmux("kill-server").catch(() => undefined);
        }
      },
    );
  },
);
