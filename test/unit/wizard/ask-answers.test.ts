// The wizard's questions against scripted answers: which questions are asked for which machine,
// what the defaults are, re-asking with the planner's own message, cancellation, and the
// non-interactive path. The real terminal is covered by test/system/wizard (tmux).
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseProbeOutput } from "../../../src/detect/parse-probe";
import { CancelledError, UserError } from "../../../src/errors";
import type { Disk, Facts } from "../../../src/facts/types";
import { askAnswers } from "../../../src/wizard/ask-answers";
import type { Choice, Prompter } from "../../../src/wizard/prompter";

const FIXTURE = new URL("../../fixtures/probe/debian12-dev-container-local.txt", import.meta.url);
const G = 1024 ** 3;

type Asked = { kind: string; message: string; initial?: unknown; choices?: string[]; errors: string[] };
type Answer = string | string[] | ((choices: Choice<unknown>[]) => unknown) | "CANCEL";

/** Answers questions in order; a text answer given as a list is typed attempt after attempt. */
function scripted(answers: Answer[]): Prompter & { asked: Asked[] } {
  const asked: Asked[] = [];
  const next = (q: Asked) => {
    asked.push(q);
    if (answers.length === 0) throw new Error(`unexpected question: ${q.message}`);
    const a = answers.shift()!;
    if (a === "CANCEL") throw new CancelledError();
    return a;
  };
  return {
    asked,
    interactive: true,
    async password(q) {
      return next({ kind: "password", message: q.message, errors: [] }) as string;
    },
    async confirm(q) {
      return next({ kind: "confirm", message: q.message, errors: [] }) === "yes";
    },
    async text(q) {
      const rec: Asked = { kind: "text", message: q.message, initial: q.initial, errors: [] };
      const a = next(rec);
      for (const attempt of Array.isArray(a) ? a : [a as string]) {
        const v = attempt === "" && q.initial !== undefined ? q.initial : attempt;
        const ok = q.validate ? q.validate(v) : true;
        if (ok === true) return v;
        rec.errors.push(ok);
      }
      throw new Error(`no valid answer for: ${q.message} (${rec.errors.join("; ")})`);
    },
    async select<T>(q: { message: string; choices: Choice<T>[]; initial?: number }) {
      const a = next({
        kind: "select",
        message: q.message,
        initial: q.initial,
        choices: q.choices.map((c) => c.title),
        errors: [],
      });
      return (typeof a === "function" ? a(q.choices as Choice<unknown>[]) : q.choices[q.initial ?? 0]!.value) as T;
    },
    async multiselect<T>(q: { message: string; choices: Choice<T>[] }) {
      const a = next({ kind: "multiselect", message: q.message, choices: q.choices.map((c) => c.title), errors: [] });
      return (
        typeof a === "function"
          ? a(q.choices as Choice<unknown>[])
          : q.choices.filter((c) => c.selected).map((c) => c.value)
      ) as T[];
    },
  };
}
const DEFAULT = "";
const pick = (title: RegExp) => (choices: Choice<unknown>[]) => choices.find((c) => title.test(c.title))!.value;

let dir: string;
let keyA: string;
let keyB: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "nn-wizard-"));
  for (const n of ["a", "b"])
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", `${n}@laptop`, "-f", join(dir, n)]);
  keyA = readFileSync(join(dir, "a.pub"), "utf8").trim();
  keyB = readFileSync(join(dir, "b.pub"), "utf8").trim();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function vps(): Facts {
  const f = parseProbeOutput(readFileSync(FIXTURE, "utf8"));
  return { ...f, hostname: "web-1", operatorAddress: "198.51.100.23" };
}
function disk(name: string, size: number, extra: Partial<Disk> = {}): Disk {
  return {
    name,
    path: `/dev/${name}`,
    sizeBytes: size,
    model: "SAMSUNG MZVL2512",
    serial: `S${name}`,
    byId: [`/dev/disk/by-id/nvme-SAMSUNG_MZVL2512_S${name}`],
    byPath: [],
    transport: "nvme",
    rotational: false,
    removable: false,
    readOnly: false,
    partitions: [],
    mountpoints: [],
    holdsRoot: false,
    ...extra,
  };
}
/** A dedicated server in a rescue system: two equal NVMe disks and a big HDD, nothing mounted. */
function dedicated(): Facts {
  return {
    ...vps(),
    hostname: "rescue",
    disks: [
      disk("nvme0n1", 512 * G),
      disk("nvme1n1", 512 * G),
      disk("sda", 4000 * G, { transport: "sata", rotational: true, byId: ["/dev/disk/by-id/ata-HDD_X"] }),
    ],
  };
}

describe("askAnswers on a one-disk VPS", () => {
  it("asks everything the facts do not answer, with defaults from the facts", async () => {
    const p = scripted([
      DEFAULT,
      (c) => c[0]!.value,
      pick(/^nix-bitcoin/),
      (c) => c.filter((x) => x.title !== "paste other keys…").map((x) => x.value),
      ["833w", "22x", "22", "2200"],
      DEFAULT,
      "Europe/Berlin",
    ]);
    const config = await askAnswers({
      facts: vps(),
      partial: {},
      prompter: p,
      interactive: true,
      keysFound: [keyA, keyB],
    });
    expect(p.asked.map((q) => q.kind + ":" + q.message.split(" ").slice(0, 3).join(" "))).toEqual([
      "text:Host name of",
      "select:Disk layout",
      "select:What should this",
      "multiselect:Which public keys",
      "text:SSH port after",
      "text:Addresses fail2ban must",
      "text:Time zone",
    ]);
    expect(p.asked[0]!.initial).toBe("web-1");
    expect(p.asked[1]!.choices).toEqual(["ext4 on one disk", "btrfs on one disk"]); // one disk: no mirror offered, no disk question
    expect(p.asked[4]!.errors).toEqual([
      'ssh.port: "833w" is not a port number (1-65535) (write a whole number from 1 to 65535, e.g. 2222)',
      'ssh.port: "22x" is not a port number (1-65535) (write a whole number from 1 to 65535, e.g. 2222)',
      "ssh.port: 22 is the port lockdown moves away from (choose another port for SSH after lockdown, e.g. 2222)",
    ]);
    expect(p.asked[5]!.initial).toBe("198.51.100.23");
    expect(config).toMatchObject({
      hostname: "web-1",
      profile: "nix-bitcoin",
      timezone: "Europe/Berlin",
      disk: { layout: "ext4", devices: ["/dev/vda"], data: null },
      ssh: { port: 2200, authorizedKeys: [keyA, keyB] },
      fail2ban: { enable: true, ignoreIP: ["198.51.100.23"] },
    });
  });

  it("never asks what the config already answers", async () => {
    const p = scripted([]);
    const partial = {
      hostname: "node",
      profile: "base" as const,
      timezone: "UTC",
      disk: { layout: "btrfs" as const },
      ssh: { port: 2222, authorizedKeys: [keyA] },
      fail2ban: { ignoreIP: [] },
    };
    const config = await askAnswers({ facts: vps(), partial, prompter: p, interactive: true, keysFound: [keyB] });
    expect(p.asked).toEqual([]);
    expect(config.disk).toMatchObject({ layout: "btrfs", devices: ["/dev/vda"] });
    expect(config.ssh.authorizedKeys).toEqual([keyA]);
  });

  it("asks for pasted keys when none was found, one per question until an empty answer, re-asking on a private key or garbage", async () => {
    const partial = {
      hostname: "node",
      profile: "base" as const,
      timezone: "UTC",
      disk: { layout: "ext4" as const },
      ssh: { port: 2222 },
      fail2ban: { ignoreIP: [] },
    };
    const p = scripted([["", "-----BEGIN OPENSSH PRIVATE KEY----- abc", "hello", keyB], ["nope", keyA], DEFAULT]);
    const config = await askAnswers({ facts: vps(), partial, prompter: p, interactive: true, keysFound: [] });
    expect(p.asked[0]!.message).toMatch(/No SSH public key found/);
    expect(p.asked[0]!.errors[0]).toMatch(/^ssh\.authorizedKeys\[0\]/); // the first key cannot be skipped
    expect(p.asked[0]!.errors[1]).toMatch(/^ssh\.authorizedKeys\[0\]: this is a PRIVATE key/);
    expect(p.asked[0]!.errors[2]).toMatch(/^ssh\.authorizedKeys\[0\]: "hello" is not an OpenSSH public key/);
    expect(p.asked[1]!.message).toMatch(/Paste another public key \(1 so far; empty to finish\)/);
    expect(p.asked[1]!.errors[0]).toMatch(/^ssh\.authorizedKeys\[1\]: "nope" is not an OpenSSH public key/);
    expect(p.asked).toHaveLength(3);
    expect(config.ssh.authorizedKeys).toEqual([keyB, keyA]);
  });

  it("found keys are all ticked; 'paste other keys…' adds pasted ones after them", async () => {
    const partial = {
      hostname: "node",
      profile: "base" as const,
      timezone: "UTC",
      disk: { layout: "ext4" as const },
      ssh: { port: 2222 },
      fail2ban: { ignoreIP: [] },
    };
    const p = scripted([(c) => c.map((x) => x.value), keyB, DEFAULT]);
    const config = await askAnswers({ facts: vps(), partial, prompter: p, interactive: true, keysFound: [keyA] });
    expect(p.asked[0]!.choices).toEqual([expect.stringMatching(/^ssh-ed25519 \S+…\S+ a@laptop$/), "paste other keys…"]);
    expect(config.ssh.authorizedKeys).toEqual([keyA, keyB]);
  });

  it("re-asks a bad host name and bad ignore addresses with the field's message", async () => {
    const partial = {
      profile: "base" as const,
      timezone: "UTC",
      disk: { layout: "ext4" as const },
      ssh: { port: 2222, authorizedKeys: [keyA] },
    };
    const p = scripted([
      ["Node_1", "node-1"],
      ["203.0.113.7 10.0.0.0/33", "203.0.113.7 10.0.0.0/8"],
    ]);
    const config = await askAnswers({ facts: vps(), partial, prompter: p, interactive: true, keysFound: [] });
    expect(p.asked[0]!.errors[0]).toMatch(/^hostname: "Node_1"/);
    expect(p.asked[1]!.errors).toEqual([
      expect.stringMatching(/^fail2ban\.ignoreIP\[1\]: "10\.0\.0\.0\/33" is not an IP address or CIDR/),
    ]);
    expect(config.hostname).toBe("node-1");
    expect(config.fail2ban.ignoreIP).toEqual(["203.0.113.7", "10.0.0.0/8"]);
  });

  it("Ctrl-C at any question is a CancelledError", async () => {
    const p = scripted([DEFAULT, "CANCEL"]);
    await expect(
      askAnswers({ facts: vps(), partial: {}, prompter: p, interactive: true, keysFound: [keyA] }),
    ).rejects.toBeInstanceOf(CancelledError);
  });
});

describe("askAnswers on a dedicated server with two equal disks", () => {
  const partial = {
    hostname: "btc",
    profile: "nix-bitcoin" as const,
    timezone: "UTC",
    ssh: { port: 2222, authorizedKeys: [keyA] },
    fail2ban: { ignoreIP: [] },
  };
  it("offers the mirror first, picks the pair, and offers the big disk for data", async () => {
    const p = scripted([DEFAULT, pick(/ata-HDD_X|sda/), "/var/lib/bitcoind"]);
    const config = await askAnswers({ facts: dedicated(), partial, prompter: p, interactive: true, keysFound: [] });
    expect(p.asked[0]!.choices).toEqual([
      "ext4 on one disk",
      "btrfs on one disk",
      "mirror of two disks (mdadm RAID1, ext4)",
      "mirror of two disks (ZFS)",
    ]);
    expect(p.asked[0]!.initial).toBe(2);
    expect(p.asked[1]!.choices).toEqual(["no data disk", expect.stringMatching(/^\/dev\/sda · 3\.9T/)]);
    expect(config.disk).toEqual({
      layout: "mirror-mdadm",
      devices: ["/dev/disk/by-id/nvme-SAMSUNG_MZVL2512_Snvme0n1", "/dev/disk/by-id/nvme-SAMSUNG_MZVL2512_Snvme1n1"],
      swap: "auto",
      data: { device: "/dev/disk/by-id/ata-HDD_X", mountpoint: "/var/lib/bitcoind", filesystem: "ext4" },
    });
  });
  it("single-disk layout asks which disk, defaulting to the fastest", async () => {
    const p = scripted([pick(/^ext4/), DEFAULT, pick(/^no data/)]);
    const config = await askAnswers({ facts: dedicated(), partial, prompter: p, interactive: true, keysFound: [] });
    expect(p.asked[1]!.message).toMatch(/^System disk/);
    expect(p.asked[1]!.initial).toBe(0);
    expect(config.disk.devices).toEqual(["/dev/disk/by-id/nvme-SAMSUNG_MZVL2512_Snvme0n1"]);
    expect(config.disk.data).toBeNull();
  });
});

describe("askAnswers non-interactive", () => {
  it("never prompts; a missing key is a UserError naming ssh.authorizedKeys", async () => {
    const p = scripted([]);
    const err = await askAnswers({
      facts: vps(),
      partial: {},
      prompter: p,
      interactive: false,
      keysFound: [keyA],
    }).catch((e) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).field).toBe("ssh.authorizedKeys");
    expect(p.asked).toEqual([]);
  });
  it("fills the rest from the facts", async () => {
    const config = await askAnswers({
      facts: vps(),
      partial: { ssh: { authorizedKeys: [keyA] } },
      prompter: scripted([]),
      interactive: false,
      keysFound: [],
    });
    expect(config).toMatchObject({
      hostname: "web-1",
      disk: { devices: ["/dev/vda"], layout: "ext4" },
      ssh: { port: 2222 },
    });
  });
});
