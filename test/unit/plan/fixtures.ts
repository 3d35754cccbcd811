// Shared test inputs for planning: real OpenSSH public keys made in-process, the corpus location,
// and a small Facts builder whose result passes the real validateFacts.
import { generateKeyPairSync } from "node:crypto";
import { validateFacts } from "../../../src/facts/validate";
import type { Disk, Facts, NetInterface } from "../../../src/facts/types";

/** <repo>/../shared/corpus, as CI lays it out (or NIXNODE_CORPUS). */
export { CORPUS } from "../../helpers/corpus";

export function opensshPublicKey(
  type: "ed25519" | "rsa" | "ecdsa",
  opts: { bits?: number; comment?: string } = {},
): string {
  const pair =
    type === "ed25519"
      ? generateKeyPairSync("ed25519")
      : type === "rsa"
        ? generateKeyPairSync("rsa", { modulusLength: opts.bits ?? 3072 })
        : generateKeyPairSync("ec", { namedCurve: "P-256" });
  // the SSH wire encoding (RFC 4253 6.6, RFC 5656 3.1, RFC 8709 4) from the key's JWK
  const jwk = pair.publicKey.export({ format: "jwk" });
  const b = (s: string | undefined) => Buffer.from(s ?? "", "base64url");
  const str = (x: Buffer | string) => {
    const v = typeof x === "string" ? Buffer.from(x) : x;
    const n = Buffer.alloc(4);
    n.writeUInt32BE(v.length);
    return Buffer.concat([n, v]);
  };
  const mpint = (x: Buffer) => str(x[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), x]) : x);
  const [type_, wire] =
    type === "ed25519"
      ? ["ssh-ed25519", [str("ssh-ed25519"), str(b(jwk.x))]]
      : type === "rsa"
        ? ["ssh-rsa", [str("ssh-rsa"), mpint(b(jwk.e)), mpint(b(jwk.n))]]
        : [
            "ecdsa-sha2-nistp256",
            [str("ecdsa-sha2-nistp256"), str("nistp256"), str(Buffer.concat([Buffer.from([4]), b(jwk.x), b(jwk.y)]))],
          ];
  return `${type_} ${Buffer.concat(wire).toString("base64")} ${opts.comment ?? "operator@laptop"}`;
}

export const KEY_ED25519 = opensshPublicKey("ed25519");

const GiB = 1024 ** 3;

export function disk(name: string, sizeGiB: number, extra: Partial<Disk> = {}): Disk {
  return {
    name,
    path: `/dev/${name}`,
    sizeBytes: sizeGiB * GiB,
    model: "TEST DISK",
    serial: `SN-${name}`,
    byId: [`/dev/disk/by-id/test-${name}`],
    byPath: [],
    transport: name.startsWith("nvme") ? "nvme" : "virtio",
    rotational: false,
    removable: false,
    readOnly: false,
    partitions: [],
    mountpoints: [],
    holdsRoot: false,
    ...extra,
  };
}

export function iface(name: string, mac: string, addresses: NetInterface["addresses"]): NetInterface {
  return { name, mac, driver: "virtio_net", state: "up", mtu: 1500, kind: "ethernet", addresses };
}

/** A probed Ubuntu VPS; override any part. Validated, so tests never run on impossible facts. */
export function makeFacts(over: Partial<Facts> = {}): Facts {
  const base: Facts = {
    schema: 1,
    source: "probe",
    hostname: "vps-test",
    os: {
      id: "ubuntu",
      versionId: "24.04",
      prettyName: "Ubuntu 24.04 LTS",
      isNixos: false,
      isNixosInstaller: false,
      kernel: "6.8.0-45-generic",
    },
    arch: "x86_64",
    virtualisation: "kvm",
    firmware: { mode: "bios", secureBoot: false, kernelLockdown: "none", vendor: "SeaBIOS" },
    memory: { totalBytes: 4 * GiB, swapBytes: 0 },
    cpu: { vendor: "intel", model: "Intel Xeon", cores: 2 },
    disks: [disk("vda", 80, { holdsRoot: true, mountpoints: ["/"] })],
    network: {
      interfaces: [
        iface("eth0", "52:54:00:12:34:56", [
          { family: 4, address: "192.0.2.10", prefix: 24, scope: "global", dynamic: true },
        ]),
      ],
      routes: [
        {
          family: 4,
          destination: "default",
          gateway: "192.0.2.1",
          dev: "eth0",
          onLink: false,
          protocol: "dhcp",
          metric: 100,
        },
      ],
      defaultGateway4: { address: "192.0.2.1", dev: "eth0", onLink: false },
      defaultGateway6: null,
      dns: ["127.0.0.53"],
      dhcp4: true,
    },
    initrdModules: ["virtio_pci", "virtio_blk", "virtio_net"],
    kernelModules: ["kvm-intel"],
    provider: { vendor: "QEMU", product: "Standard PC", hint: null },
    operatorAddress: "198.51.100.23",
    access: { user: "root", isRoot: true, sudo: "root" },
    tools: { tar: true, cpio: true, setsid: true, curl: true, wget: false, kexec: false },
    bootId: "0b0e1f7e-0000-4000-8000-000000000001",
    warnings: [],
  };
  return validateFacts(structuredClone({ ...base, ...over }));
}
