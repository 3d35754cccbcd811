// The throwaway targets themselves: each capability other tests rely on, proven against the real sshd.
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, readFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { Client } from "ssh2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTarget, targetsSupported, type TestTarget } from "../../targets/index";
import { makeKeyPair, startAgent, type KeyPair } from "../../helpers/ssh-keys";

const supported = targetsSupported();
const run = promisify(execFile);

interface Conn {
  client: Client;
  exec(cmd: string): Promise<string>;
  closed: Promise<void>;
}

function connect(
  t: TestTarget,
  auth: { password?: string; privateKey?: Buffer; agent?: string },
  extra: { host?: string; port?: number; localAddress?: string } = {},
): Promise<Conn> {
  return new Promise((resolve, reject) => {
    const client = new Client();
    let closedResolve!: () => void;
    const closed = new Promise<void>((r) => (closedResolve = r));
    client.on("close", () => closedResolve());
    client.on("error", reject);
    client.on("ready", () =>
      resolve({
        client,
        closed,
        exec: (cmd) =>
          new Promise((res, rej) =>
            client.exec(cmd, (err, ch) => {
              if (err) return rej(err);
              let out = "";
              ch.on("data", (d: Buffer) => (out += d));
              ch.stderr.on("data", () => undefined);
              ch.on("close", () => res(out));
            }),
          ),
      }),
    );
    client.connect({
      host: extra.host ?? t.address,
      port: extra.port ?? t.port,
      username: "root",
      localAddress: extra.localAddress,
      readyTimeout: 10_000,
      keepaliveInterval: 2000,
      keepaliveCountMax: 10,
      ...auth,
    });
  });
}

function tcpConnects(host: string, port: number, timeoutMs = 1500): Promise<"open" | "refused" | "timeout" | string> {
  return import("node:net").then(
    (net) =>
      new Promise((resolve) => {
        const s = net.connect({ host, port });
        const timer = setTimeout(() => (s.destroy(), resolve("timeout")), timeoutMs);
        s.on("connect", () => (clearTimeout(timer), s.destroy(), resolve("open")));
        s.on(
          "error",
          (e: NodeJS.ErrnoException) => (
            clearTimeout(timer),
            resolve(e.code === "ECONNREFUSED" ? "refused" : String(e.code))
          ),
        );
      }),
  );
}

describe.skipIf(!supported.ok)(`throwaway targets${supported.ok ? "" : ` (skipped: ${supported.reason})`}`, () => {
  let keyDir: string;
  let key: KeyPair;
  let t: TestTarget;

  beforeAll(async () => {
    keyDir = mkdtempSync(join(tmpdir(), "nnt-keys-"));
    key = await makeKeyPair(keyDir);
    t = await startTarget({ authorizedKeys: [key.publicKey] });
  });
  afterAll(async () => {
    await t?.stop();
    rmSync(keyDir, { recursive: true, force: true });
  });

  it("accepts the root password and the authorized key, and looks like Ubuntu with its own hostname and boot_id", async () => {
    const byPassword = await connect(t, { password: t.rootPassword });
    const out = await byPassword.exec(
      "hostname; . /etc/os-release; echo $ID $VERSION_ID; cat /proc/sys/kernel/random/boot_id; echo $PATH",
    );
    byPassword.client.end();
    const [hostname, os, bootId, path] = out.trim().split("\n");
    expect(hostname).toBe(t.name);
    expect(os).toBe("ubuntu 24.04");
    expect(bootId).toBe(await t.bootId());
    expect(path?.split(":")[0]).toBe("/usr/local/sbin");
    const byKey = await connect(t, { privateKey: readFileSync(key.privatePath) });
    expect((await byKey.exec("echo $SSH_CONNECTION")).split(" ")[0]).toBe(t.operatorAddress);
    byKey.client.end();
    expect(await t.sshdLog()).toMatch(/Accepted publickey for root from/);
    // the host's own identity is untouched
    expect(readFileSync("/etc/os-release", "utf8")).not.toMatch(/Ubuntu 24.04.1/);
  });

  it("refuses a wrong password", async () => {
    await expect(connect(t, { password: "wrong" })).rejects.toThrow(/authentication methods failed/);
    expect(await t.sshdLog()).toMatch(/Failed password for root from/);
  });

  it("logs in through a real ssh-agent holding a passphrase-protected key", async () => {
    const locked = await makeKeyPair(keyDir, { passphrase: "correct horse" });
    await t.exec(`cat >> /root/.ssh/authorized_keys`, { input: locked.publicKey + "\n" });
    const agent = await startAgent([locked]);
    try {
      const c = await connect(t, { agent: agent.sock });
      expect((await c.exec("whoami")).trim()).toBe("root");
      c.client.end();
    } finally {
      await agent.stop();
    }
  });

  it("restartSshd moves the listener to a new port while an established session survives", async () => {
    const session = await connect(t, { password: t.rootPassword });
    await t.restartSshd({ port: 2222 });
    expect(t.port).toBe(2222);
    expect(await tcpConnects(t.address, 22)).toBe("refused");
    expect((await session.exec("echo alive")).trim()).toBe("alive");
    const fresh = await connect(t, { password: t.rootPassword });
    fresh.client.end();
    await t.restartSshd({ ports: [22] });
    expect((await session.exec("echo still")).trim()).toBe("still");
    session.client.end();
  });

  it("killSshd stops new logins only", async () => {
    const session = await connect(t, { password: t.rootPassword });
    await t.killSshd();
    expect(await tcpConnects(t.address, t.port)).toBe("refused");
    expect((await session.exec("echo alive")).trim()).toBe("alive");
    session.client.end();
    await t.restartSshd();
    expect(await tcpConnects(t.address, t.port)).toBe("open");
  });

  it("a config sshd rejects: restartSshd fails with sshd's reason and no listener runs; a good config brings it back", async () => {
    const session = await connect(t, { password: t.rootPassword });
    const conf = join(t.dir, "sshd_config");
    const good = readFileSync(conf, "utf8");
    const { writeFileSync } = await import("node:fs");
    writeFileSync(conf, good + "NoSuchOption yes\n");
    try {
      await expect(t.restartSshd()).rejects.toThrow(/Bad configuration option: NoSuchOption|NoSuchOption/);
      expect(await tcpConnects(t.address, t.port)).toBe("refused");
      expect((await session.exec("echo alive")).trim()).toBe("alive"); // like a real failed restart: sessions live on
    } finally {
      writeFileSync(conf, good);
    }
    await t.restartSshd();
    expect(await tcpConnects(t.address, t.port)).toBe("open");
    session.client.end();
  });

  it("blockPort drops new connections but not the established session; unblockPort restores", async () => {
    const session = await connect(t, { password: t.rootPassword });
    await t.faults.blockPort(t.port);
    expect(await tcpConnects(t.address, t.port)).toBe("timeout");
    expect((await session.exec("echo alive")).trim()).toBe("alive");
    await t.faults.unblockPort(t.port);
    expect(await tcpConnects(t.address, t.port)).toBe("open");
    session.client.end();
  });

  it("blackholeAll silences even established sessions until restoreAll", async () => {
    const session = await connect(t, { password: t.rootPassword });
    await t.faults.blackholeAll();
    expect(await tcpConnects(t.address, t.port)).toBe("timeout");
    await t.faults.restoreAll();
    expect((await session.exec("echo back")).trim()).toBe("back");
    session.client.end();
  });

  it("a session with keepalives survives a 5 s link-down", async () => {
    const session = await connect(t, { password: t.rootPassword });
    await t.faults.linkDown();
    expect(await tcpConnects(t.address, t.port, 1000)).not.toBe("open");
    await new Promise((r) => setTimeout(r, 5000));
    await t.faults.linkUp();
    expect((await session.exec("echo survived")).trim()).toBe("survived");
    session.client.end();
  });

  it("a second client address reaches the target and is seen as a different source", async () => {
    const second = await t.addClientAddress();
    expect(second).not.toBe(t.operatorAddress);
    const c = await connect(t, { password: t.rootPassword }, { localAddress: second });
    expect((await c.exec("echo $SSH_CONNECTION")).split(" ")[0]).toBe(second);
    c.client.end();
  });

  it("the latency proxy forwards to sshd with a measurable delay", async () => {
    const proxy = await t.latencyProxy(40);
    try {
      const c = await connect(t, { password: t.rootPassword }, { host: proxy.host, port: proxy.port });
      const t0 = performance.now();
      await c.exec("true");
      const rtt = performance.now() - t0;
      c.client.end();
      expect(rtt).toBeGreaterThanOrEqual(80); // one exec is at least one round trip of 2 x 40 ms
    } finally {
      await proxy.close();
    }
  });

  it("bandwidth limits the link (tbf) until cleared", async () => {
    const c = await connect(t, { password: t.rootPassword });
    await t.faults.bandwidth("1mbit");
    try {
      expect((await t.exec("tc qdisc show dev eth0")).stdout).toMatch(/tbf .*rate 1Mbit/);
      expect((await run("tc", ["qdisc", "show", "dev", t.hostInterface])).stdout).toMatch(/tbf .*rate 1Mbit/);
      const big = await new Promise<number>((resolve, reject) =>
        c.client.exec("head -c 200000 /dev/zero", (err, ch) => {
          if (err) return reject(err);
          let n = 0;
          ch.on("data", (d: Buffer) => (n += d.length)).on("close", () => resolve(n));
        }),
      );
      expect(big).toBe(200000);
      const stats = (await t.exec("tc -s qdisc show dev eth0")).stdout;
      expect(Number(/Sent (\d+) bytes/.exec(stats)?.[1])).toBeGreaterThan(200000); // the data went through the shaper
    } finally {
      await t.faults.clearBandwidth();
      c.client.end();
    }
    expect((await t.exec("tc qdisc show dev eth0")).stdout).not.toContain("tbf");
  });

  it("enter.sh and target.json let an out-of-process tool act inside the target", async () => {
    const info = JSON.parse(readFileSync(join(t.dir, "target.json"), "utf8")) as {
      holderPid: number;
      address: string;
      dir: string;
      shimDir: string;
    };
    expect(info).toMatchObject({ holderPid: t.holderPid, address: t.address, dir: t.dir, shimDir: t.shimDir });
    const enter = new URL("../../targets/enter.sh", import.meta.url).pathname;
    const { stdout } = await run(enter, [t.dir, "sh", "-c", "hostname; ip -o -4 addr show dev eth0"]);
    expect(stdout).toContain(t.name);
    expect(stdout).toContain(t.address);
  });

  it("a shim in shimDir is found first on a login's PATH", async () => {
    const { writeFileSync } = await import("node:fs");
    writeFileSync(join(t.shimDir, "nixos-version"), "#!/bin/sh\necho 24.11.test\n", { mode: 0o755 });
    const c = await connect(t, { password: t.rootPassword });
    expect((await c.exec("nixos-version")).trim()).toBe("24.11.test");
    c.client.end();
  });

  it("simulateReboot drops every session, changes boot_id, runs reboot.d and the hook, and sshd answers again", async () => {
    const { writeFileSync } = await import("node:fs");
    writeFileSync(join(t.dir, "reboot.d", "10-mark"), `#!/bin/sh\necho restored > '${t.dir}/restored'\n`, {
      mode: 0o755,
    });
    const before = await t.bootId();
    await t.exec("iptables -N TESTFW && iptables -A INPUT -p tcp --dport 9 -j TESTFW && iptables -P FORWARD DROP");
    const session = await connect(t, { password: t.rootPassword });
    let hookSawSshd = "";
    await t.simulateReboot(async () => {
      hookSawSshd = await tcpConnects(t.address, t.port, 500);
    });
    await session.closed; // the old session is gone
    expect(hookSawSshd).not.toBe("open");
    expect(existsSync(join(t.dir, "restored"))).toBe(true);
    const after = await t.bootId();
    expect(after).not.toBe(before);
    const c = await connect(t, { password: t.rootPassword });
    expect((await c.exec("cat /proc/sys/kernel/random/boot_id")).trim()).toBe(after);
    c.client.end();
    // the firewall starts empty; the harness's fault chains survive and still work
    const rules = (await t.exec("iptables -S")).stdout;
    expect(rules).not.toContain("TESTFW");
    expect(rules).toContain("-P FORWARD ACCEPT");
    expect(rules).toContain("-A INPUT -j NNT-IN");
    expect(rules).toContain("-A NNT-IN -m conntrack --ctstate NEW");
    await t.faults.blockPort(t.port);
    expect(await tcpConnects(t.address, t.port)).toBe("timeout");
    await t.faults.unblockPort(t.port);
  });

  it("stop() removes the namespace, the veth and the folder", async () => {
    const other = await startTarget();
    const { ns, dir } = other;
    await other.stop();
    const { stdout } = await run("ip", ["netns", "list"]);
    expect(stdout).not.toContain(ns);
    expect(existsSync(dir)).toBe(false);
  });
});
