// `nixnode-install plan` as a user runs it (the built bundle): bad input of every kind is refused
// with exit 2, the field named on stderr, and NOTHING written; good input writes a flake whose
// host.json holds the answers.
import { execFileSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runCli } from "../../helpers/cli";
import { corpusName, itWithCorpus } from "../../helpers/corpus";
import { CORPUS, KEY_ED25519, disk, makeFacts, opensshPublicKey } from "../plan/fixtures";

const work = mkdtempSync(join(tmpdir(), "nixnode-plan-cli-"));
const file = (name: string, content: unknown) => {
  const p = join(work, name);
  writeFileSync(p, typeof content === "string" ? content : JSON.stringify(content));
  return p;
};
const keyFile = file("id_ed25519.pub", `${KEY_ED25519}\n`);
const goodFacts = file(
  "facts.json",
  makeFacts({
    disks: [
      disk("vda", 80, {
        holdsRoot: true,
        partitions: [
          {
            name: "vda1",
            path: "/dev/vda1",
            sizeBytes: 79 * 1024 ** 3,
            fstype: "ext4",
            label: null,
            uuid: null,
            mountpoints: ["/"],
          },
        ],
      }),
      disk("vdb", 4),
    ],
  }),
);
const conf = (name: string, c: unknown) => file(`${name}.json`, c);
const withKey = (c: Record<string, unknown> = {}) => ({
  ...c,
  ssh: { authorizedKeys: [KEY_ED25519], ...(c.ssh as object) },
});

/** A listing with contents, to prove a folder was not touched. */
function snapshot(dir: string): string {
  if (!existsSync(dir)) return "(absent)";
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .sort()
    .map((f) => (statSync(join(dir, f)).isDirectory() ? `${f}/` : `${f}:${readFileSync(join(dir, f), "utf8")}`))
    .join("\n");
}

type Row = [
  name: string,
  args: (out: string) => string[],
  field: string,
  message?: RegExp,
  prepare?: (out: string) => void,
];

const ROWS: Row[] = [
  ["no machine given", (o) => ["plan", "--out", o], "--facts"],
  [
    "both --facts and --example",
    (o) => ["plan", "--facts", goodFacts, "--example", "hetzner-cloud", "--out", o],
    "--example",
  ],
  ["no --out", () => ["plan", "--example", "hetzner-cloud"], "--out"],
  ["empty --out", () => ["plan", "--example", "hetzner-cloud", "--out", " "], "--out"],
  ["unknown example", (o) => ["plan", "--example", "hetzner-clod", "--out", o], "--example", /not a bundled example/],
  ["facts file missing", (o) => ["plan", "--facts", join(work, "nope.json"), "--out", o], "--facts"],
  [
    "facts not JSON",
    (o) => ["plan", "--facts", file("notjson.json", "{ nope"), "--out", o],
    "--facts",
    /not valid JSON/,
  ],
  ["facts neither format", (o) => ["plan", "--facts", file("neither.json", { foo: 1 }), "--out", o], "--facts"],
  [
    "facts with a bad field",
    (o) => [
      "plan",
      "--facts",
      file("badfacts.json", { ...makeFacts(), memory: { totalBytes: "lots", swapBytes: 0 } }),
      "--out",
      o,
    ],
    "totalBytes",
  ],
  [
    "config file missing",
    (o) => ["plan", "--facts", goodFacts, "--config", join(work, "none.json"), "--out", o],
    "--config",
    /does not exist/,
  ],
  [
    "config not JSON",
    (o) => ["plan", "--facts", goodFacts, "--config", file("c-bad.json", '{"hostname": }'), "--out", o],
    "--config",
    /not valid JSON/,
  ],
  [
    "ssh.port 833w",
    (o) => ["plan", "--facts", goodFacts, "--config", conf("c-port", withKey({ ssh: { port: "833w" } })), "--out", o],
    "ssh.port",
    /"833w" is not a port number \(1-65535\)/,
  ],
  [
    "ssh.port 0",
    (o) => ["plan", "--facts", goodFacts, "--config", conf("c-port0", withKey({ ssh: { port: 0 } })), "--out", o],
    "ssh.port",
  ],
  [
    "ssh.port used by the profile",
    (o) => [
      "plan",
      "--facts",
      goodFacts,
      "--config",
      conf("c-port8333", withKey({ profile: "nix-bitcoin", ssh: { port: 8333 } })),
      "--out",
      o,
    ],
    "ssh.port",
    /used by the nix-bitcoin profile/,
  ],
  [
    "hostname with a dot",
    (o) => ["plan", "--facts", goodFacts, "--config", conf("c-host", withKey({ hostname: "my.node" })), "--out", o],
    "hostname",
  ],
  [
    "hostname with capitals",
    (o) => ["plan", "--facts", goodFacts, "--config", conf("c-host2", withKey({ hostname: "MyNode" })), "--out", o],
    "hostname",
    /lowercase/,
  ],
  [
    "hostname too long",
    (o) => [
      "plan",
      "--facts",
      goodFacts,
      "--config",
      conf("c-host3", withKey({ hostname: "n".repeat(64) })),
      "--out",
      o,
    ],
    "hostname",
  ],
  [
    "unknown setting",
    (o) => ["plan", "--facts", goodFacts, "--config", conf("c-unknown", withKey({ timezon: "UTC" })), "--out", o],
    "timezon",
    /did you mean timezone/,
  ],
  [
    "bad time zone",
    (o) => ["plan", "--facts", goodFacts, "--config", conf("c-tz", withKey({ timezone: "CET+1 Berlin" })), "--out", o],
    "timezone",
  ],
  [
    "bad NixOS release",
    (o) => ["plan", "--facts", goodFacts, "--config", conf("c-nixos", withKey({ nixos: "25.10" })), "--out", o],
    "nixos",
  ],
  [
    "disk that does not exist",
    (o) => [
      "plan",
      "--facts",
      goodFacts,
      "--config",
      conf("c-sdz", withKey({ disk: { devices: ["/dev/sdz"] } })),
      "--out",
      o,
    ],
    "disk.devices[0]",
    /\/dev\/sdz is not a disk on this machine \(disks: \/dev\/vda/,
  ],
  [
    "a partition instead of a disk",
    (o) => [
      "plan",
      "--facts",
      goodFacts,
      "--config",
      conf("c-part", withKey({ disk: { devices: ["/dev/vda1"] } })),
      "--out",
      o,
    ],
    "disk.devices[0]",
    /is a partition/,
  ],
  [
    "a disk too small",
    (o) => [
      "plan",
      "--facts",
      goodFacts,
      "--config",
      conf("c-small", withKey({ disk: { devices: ["/dev/vdb"] } })),
      "--out",
      o,
    ],
    "disk.devices[0]",
    /at least 8 GiB/,
  ],
  [
    "mirror on a one-disk machine",
    (o) => [
      "plan",
      "--facts",
      goodFacts,
      "--config",
      conf("c-mirror", withKey({ disk: { layout: "mirror-mdadm" } })),
      "--out",
      o,
    ],
    "disk.devices",
    /two disks of similar size/,
  ],
  [
    "two disks for ext4",
    (o) => [
      "plan",
      "--example",
      "hetzner-dedicated",
      "--config",
      conf("c-two", withKey({ disk: { devices: ["/dev/nvme0n1", "/dev/nvme1n1"] } })),
      "--out",
      o,
    ],
    "disk.devices",
    /uses 1 disk, 2 given/,
  ],
  [
    "the same disk twice in a mirror",
    (o) => [
      "plan",
      "--example",
      "hetzner-dedicated",
      "--config",
      conf("c-same", withKey({ disk: { layout: "mirror-zfs", devices: ["/dev/nvme0n1", "/dev/nvme0n1"] } })),
      "--out",
      o,
    ],
    "disk.devices[1]",
    /same disk/,
  ],
  [
    "data disk = system disk",
    (o) => [
      "plan",
      "--example",
      "hetzner-dedicated",
      "--config",
      conf("c-data", withKey({ disk: { devices: ["/dev/nvme0n1"], data: { device: "/dev/nvme0n1" } } })),
      "--out",
      o,
    ],
    "disk.data.device",
    /also a system disk/,
  ],
  [
    "data disk mounted on /",
    (o) => [
      "plan",
      "--example",
      "hetzner-dedicated",
      "--config",
      conf("c-datamnt", withKey({ disk: { data: { device: "/dev/nvme1n1", mountpoint: "/" } } })),
      "--out",
      o,
    ],
    "disk.data.mountpoint",
  ],
  [
    "swap bigger than half the disk",
    (o) => ["plan", "--facts", goodFacts, "--config", conf("c-swap", withKey({ disk: { swap: "64G" } })), "--out", o],
    "disk.swap",
    /more than half/,
  ],
  [
    "garbage key",
    (o) => [
      "plan",
      "--facts",
      goodFacts,
      "--config",
      conf("c-key", { ssh: { authorizedKeys: ["ssh-ed25519 not-base64!"] } }),
      "--out",
      o,
    ],
    "ssh.authorizedKeys[0]",
  ],
  [
    "short RSA key on the command line",
    (o) => ["plan", "--facts", goodFacts, "--ssh-key", opensshPublicKey("rsa", { bits: 1024 }), "--out", o],
    "ssh.authorizedKeys[0]",
    /1024 bits/,
  ],
  [
    "private key given as --ssh-key",
    (o) => [
      "plan",
      "--facts",
      goodFacts,
      "--ssh-key",
      file("id_private", "-----BEGIN OPENSSH PRIVATE KEY-----\nxx\n-----END OPENSSH PRIVATE KEY-----\n"),
      "--out",
      o,
    ],
    "--ssh-key",
    /PRIVATE key/,
  ],
  [
    "--ssh-key file missing",
    (o) => ["plan", "--facts", goodFacts, "--ssh-key", join(work, "nokey.pub"), "--out", o],
    "--ssh-key",
  ],
  [
    "no operator key for a real machine",
    (o) => ["plan", "--facts", goodFacts, "--out", o],
    "ssh.authorizedKeys",
    /missing/,
  ],
  [
    "fail2ban.ignoreIP not an address",
    (o) => [
      "plan",
      "--facts",
      goodFacts,
      "--config",
      conf("c-ign", withKey({ fail2ban: { ignoreIP: ["home"] } })),
      "--out",
      o,
    ],
    "fail2ban.ignoreIP[0]",
  ],
  [
    "a machine with too little RAM",
    (o) => ["plan", "--example", "oracle-micro-1gb", "--ssh-key", keyFile, "--out", o],
    "preflight.memory",
    /cannot be installed/,
  ],
  [
    "a container",
    (o) => [
      "plan",
      "--facts",
      file("lxc.json", makeFacts({ virtualisation: "lxc" })),
      "--ssh-key",
      keyFile,
      "--out",
      o,
    ],
    "preflight.container",
  ],
  ["unknown option", (o) => ["plan", "--example", "hetzner-cloud", "--colour", "--out", o], "--colour"],
  [
    "output folder not empty",
    (o) => ["plan", "--example", "hetzner-cloud", "--ssh-key", keyFile, "--out", o],
    "--out",
    /not empty/,
    (o) => {
      mkdirSync(o, { recursive: true });
      writeFileSync(join(o, "notes.txt"), "mine");
    },
  ],
  [
    "output path is a file",
    (o) => ["plan", "--example", "hetzner-cloud", "--ssh-key", keyFile, "--out", join(o, "f")],
    "--out",
    /not a folder/,
    (o) => {
      mkdirSync(o, { recursive: true });
      writeFileSync(join(o, "f"), "x");
    },
  ],
];

describe("plan refuses bad input: exit 2, the field named, nothing written", () => {
  it("has at least 30 rows", () => expect(ROWS.length).toBeGreaterThanOrEqual(30));

  it.each(ROWS.map((r, i) => [r[0], i] as const))("%s", async (_name, i) => {
    const [, args, field, message, prepare] = ROWS[i]!;
    const out = join(work, `out-${i}`);
    prepare?.(out);
    const before = snapshot(out);
    const r = await runCli(args(out), { cwd: work });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain(field);
    if (message) expect(r.stderr).toMatch(message);
    expect(r.stderr).toMatch(/fix:/);
    expect(snapshot(out)).toBe(before);
    expect(readdirSync(work).filter((f) => f.startsWith(`.out-${i}.nixnode-`))).toEqual([]);
  });

  it("--json reports the refusal as an error event naming the field", async () => {
    const r = await runCli(
      [
        "plan",
        "--facts",
        goodFacts,
        "--config",
        conf("c-port-json", withKey({ ssh: { port: "833w" } })),
        "--out",
        join(work, "out-json-err"),
        "--json",
      ],
      { cwd: work },
    );
    expect(r.code).toBe(2);
    expect(r.events.at(-1)).toMatchObject({ type: "error", field: "ssh.port", exitCode: 2 });
  });
});

describe("plan writes a flake", () => {
  it("from a bundled example, with the key given on the command line", async () => {
    const out = join(work, "node-a");
    const r = await runCli(
      [
        "plan",
        "--example",
        "hetzner-cloud",
        "--ssh-key",
        keyFile,
        "--config",
        conf("c-ok", { hostname: "alpha", ssh: { port: 2200 }, fail2ban: { ignoreIP: ["203.0.113.9"] } }),
        "--out",
        out,
      ],
      { cwd: work },
    );
    expect(r.code, r.stderr).toBe(0);
    const host = JSON.parse(readFileSync(join(out, "hosts/alpha/host.json"), "utf8"));
    expect(host.ssh.ports).toEqual([22]);
    expect(host.ssh.authorizedKeys).toEqual([KEY_ED25519]);
    expect(host.lockdown).toEqual({ stage: "none", port: 2200 });
    expect(host.fail2ban.ignoreIP).toEqual(["203.0.113.9"]);
    expect(host.network.interfaces[0].routes).toContainEqual({
      destination: "0.0.0.0/0",
      gateway: "172.31.1.1",
      onLink: true,
    });
    expect(JSON.parse(readFileSync(join(out, "nixnode.json"), "utf8")).ssh.port).toBe(2200);
    expect(r.stdout).toMatch(/\[1M bios\]\[512M ESP \/boot\]/);
    expect(r.stdout).toMatch(/Next:/);
    expect(statSync(join(out, ".nixnode/state.json")).mode & 0o777).toBe(0o600);
    let git = true;
    try {
      execFileSync("git", ["--version"]);
    } catch {
      git = false;
    }
    if (git)
      expect(execFileSync("git", ["-C", out, "ls-files"], { encoding: "utf8" })).toContain("hosts/alpha/host.json");
    // Fed back, the written nixnode.json reproduces the same host.json.
    const again = join(work, "node-a2");
    expect(
      (
        await runCli(["plan", "--example", "hetzner-cloud", "--config", join(out, "nixnode.json"), "--out", again], {
          cwd: work,
        })
      ).code,
    ).toBe(0);
    expect(readFileSync(join(again, "hosts/alpha/host.json"), "utf8")).toBe(
      readFileSync(join(out, "hosts/alpha/host.json"), "utf8"),
    );
  });

  it("--dry-run shows the tree and the disks and writes nothing; --json gives the summary", async () => {
    const out = join(work, "node-dry");
    const r = await runCli(
      [
        "plan",
        "--example",
        "hetzner-dedicated",
        "--ssh-key",
        keyFile,
        "--config",
        conf("c-mirror-ok", { disk: { layout: "mirror-mdadm" } }),
        "--out",
        out,
        "--dry-run",
      ],
      { cwd: work },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(out)).toBe(false);
    expect(r.stdout).toMatch(/nothing written/);
    expect(r.stdout.match(/by-id\/nvme-\S+ 1\.7T: \[1M bios\]/g)).toHaveLength(2);
    const j = await runCli(["plan", "--example", "hetzner-dedicated", "--ssh-key", keyFile, "--dry-run", "--json"], {
      cwd: work,
    });
    expect(j.code, j.stderr).toBe(0);
    const result = j.events.find((e) => e.type === "result")!.data as Record<string, unknown>;
    expect(result).toMatchObject({ dryRun: true, outDir: null, layout: "ext4", sshPort: 2222 });
    expect(result.files).toContain("hosts/nixnode/disk-config.nix");
  });

  itWithCorpus(corpusName("from a nixos-facter report: facter.json and hardware.facter.reportPath"), async () => {
    const out = join(work, "node-facter");
    const r = await runCli(
      [
        "plan",
        "--facts",
        `${CORPUS}facter/netcup-kvm-4gb_zmberber-supersmash.json`,
        "--ssh-key",
        keyFile,
        "--out",
        out,
      ],
      { cwd: work },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(join(out, "hosts/nixnode/default.nix"), "utf8")).toContain(
      "hardware.facter.reportPath = ./facter.json;",
    );
    expect(existsSync(join(out, "hosts/nixnode/hardware.nix"))).toBe(false);
    expect(JSON.parse(readFileSync(join(out, "hosts/nixnode/facter.json"), "utf8"))).toEqual(
      JSON.parse(readFileSync(`${CORPUS}facter/netcup-kvm-4gb_zmberber-supersmash.json`, "utf8")),
    );
  });

  it("--force writes into a folder that has other files and keeps them", async () => {
    const out = join(work, "node-force");
    mkdirSync(out);
    writeFileSync(join(out, "mine.txt"), "keep me");
    const r = await runCli(["plan", "--example", "netcup-vps", "--ssh-key", keyFile, "--out", out, "--force"], {
      cwd: work,
    });
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(join(out, "mine.txt"), "utf8")).toBe("keep me");
    expect(existsSync(join(out, "flake.nix"))).toBe(true);
  });

  it("without git on PATH: the flake is written, with a warning that says what to do", async () => {
    const out = join(work, "node-nogit");
    const emptyPath = join(work, "empty-path");
    mkdirSync(emptyPath);
    const r = await runCli(["plan", "--example", "netcup-vps", "--ssh-key", keyFile, "--out", out], {
      cwd: work,
      env: { PATH: emptyPath },
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/git is not installed/);
    expect(existsSync(join(out, "flake.nix"))).toBe(true);
    expect(existsSync(join(out, ".git"))).toBe(false);
  });

  it("a bundled example without any key still plans, for looking at, and says the install will refuse it", async () => {
    const out = join(work, "node-nokey");
    const r = await runCli(["plan", "--example", "hetzner-cloud", "--out", out, "--yes"], { cwd: work });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/install refuses this flake until one is added/);
    expect(JSON.parse(readFileSync(join(out, "hosts/nixnode/host.json"), "utf8")).ssh.authorizedKeys).toEqual([]);
  });
});

afterAll(() => rmSync(work, { recursive: true, force: true }));
