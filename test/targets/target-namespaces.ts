// Building one target's namespaces: its private folder, the veth pair and addresses, and the
// holder process that anchors the network, mount and UTS namespaces.
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { chmodSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Slot } from "./address-slots";
import type { TargetOptions } from "./index";
import { mustRun } from "./run-command";
import { renderHolderScript, renderSshdConfig } from "./target-scripts";

export function prepareDir(dir: string, opts: TargetOptions, ports: number[]): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  for (const d of ["etc-upper", "etc-work", "etc-ssh", "home", "var-log", "run", "shims", "reboot.d"])
    mkdirSync(join(dir, d), { mode: 0o755 });
  mkdirSync(join(dir, "run", "sshd"), { mode: 0o755 });
  mkdirSync(join(dir, "root", ".ssh"), { recursive: true, mode: 0o700 });
  chmodSync(join(dir, "root"), 0o700);
  writeFileSync(join(dir, "root", ".bashrc"), "");
  writeFileSync(join(dir, "root", ".profile"), "");
  writeFileSync(
    join(dir, "root", ".ssh", "authorized_keys"),
    (opts.authorizedKeys ?? []).map((k) => k.trim() + "\n").join(""),
    { mode: 0o600 },
  );
  const config = renderSshdConfig({
    ports,
    permitRootLogin: opts.permitRootLogin ?? "yes",
    passwordAuthentication: opts.passwordAuthentication ?? true,
    usePam: opts.usePam ?? false,
  });
  writeFileSync(join(dir, "etc-ssh", "sshd_config"), config);
  symlinkSync("etc-ssh/sshd_config", join(dir, "sshd_config"));
  writeFileSync(join(dir, "boot_id"), randomUUID() + "\n");
  writeFileSync(join(dir, "sshd.log"), "");
  writeFileSync(
    join(dir, "iptables.rules"),
    // NNT-IN/NNT-OUT hold the harness's faults; the no-op conntrack rule makes conntrack track from
    // the start, so a stateful firewall added later does not see established sessions as NEW.
    "*filter\n:NNT-IN - [0:0]\n:NNT-OUT - [0:0]\n-I INPUT 1 -j NNT-IN\n-I OUTPUT 1 -j NNT-OUT\n-A NNT-IN -m conntrack --ctstate NEW\nCOMMIT\n",
  );
}

export function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

export async function hashPassword(password: string): Promise<string> {
  return (await mustRun("openssl", ["passwd", "-6", "-stdin"], { input: password + "\n" })).trim();
}

export function shadowWithRoot(hash: string): string {
  const lines = readFileSync("/etc/shadow", "utf8")
    .split("\n")
    .filter((l) => l && !l.startsWith("root:"));
  return [`root:${hash}:19700:0:99999:7:::`, ...lines].join("\n") + "\n";
}

export async function createNetwork(ns: string, slot: Slot, ipv6 = false): Promise<void> {
  await mustRun("ip", ["netns", "add", ns]);
  await mustRun("ip", ["link", "add", slot.hostIf, "type", "veth", "peer", "name", slot.peerIf, "netns", ns]);
  await mustRun("ip", ["addr", "add", `${slot.hostAddress}/30`, "dev", slot.hostIf]);
  if (ipv6) await mustRun("ip", ["-6", "addr", "add", `${slot.hostAddress6}/64`, "dev", slot.hostIf, "nodad"]);
  await mustRun("ip", ["link", "set", slot.hostIf, "up"]);
  const batch = [
    `link set ${slot.peerIf} name eth0`,
    `addr add ${slot.targetAddress}/30 dev eth0`,
    ...(ipv6 ? [`addr add ${slot.targetAddress6}/64 dev eth0 nodad`] : []),
    "link set eth0 up",
    `route add default via ${slot.hostAddress} dev eth0`,
    ...(ipv6 ? [`route add ::/0 via ${slot.hostAddress6} dev eth0`] : []),
  ].join("\n");
  // IPv6 addresses would be flushed by a link-down (faults, reboot) without keep_addr_on_down
  if (ipv6) await mustRun("ip", ["netns", "exec", ns, "sysctl", "-q", "-w", "net.ipv6.conf.all.keep_addr_on_down=1"]);
  await mustRun("ip", ["-n", ns, "-batch", "-"], { input: batch + "\n" });
}

/** The namespace anchor: `sleep infinity` with the target's private mounts and hostname. */
export function startHolder(ns: string, dir: string, hostname: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const script = renderHolderScript(dir, hostname);
    const child = spawn(
      "ip",
      ["netns", "exec", ns, "unshare", "-m", "-u", "--propagation", "private", "sh", "-c", script],
      {
        stdio: ["ignore", "pipe", "pipe"],
        detached: true,
      },
    );
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    child.stdout.setEncoding("utf8").on("data", (d: string) => {
      if (!d.includes("ready")) return;
      child.stdout.destroy();
      child.stderr.destroy();
      child.unref();
      resolve(child.pid!);
    });
    child.on("error", reject);
    child.on("exit", (code) => reject(new Error(`target ${ns}: namespace holder exited ${code}: ${stderr.trim()}`)));
  });
}
