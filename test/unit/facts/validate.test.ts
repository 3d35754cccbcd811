// validateFacts accepts complete facts unchanged and refuses each kind of broken value with a
// UserError that names the exact path of the field and says what would be accepted.
import { describe, expect, it } from "vitest";
import { UserError } from "../../../src/errors";
import { validateFacts } from "../../../src/facts/validate";
import { sampleFacts } from "./sample-facts";

type Json = Record<string, unknown>;
const at = (o: Json, path: string[]): Json => path.reduce<Json>((x, k) => x[k] as Json, o);

/** A copy of the sample with one value replaced (or removed when value is undefined). */
function broken(path: string[], value: unknown): unknown {
  const f = structuredClone(sampleFacts()) as unknown as Json;
  const parent = at(f, path.slice(0, -1));
  const key = path[path.length - 1]!;
  if (value === undefined) delete parent[key];
  else parent[key] = value;
  return f;
}

function errorOf(input: unknown): UserError {
  try {
    validateFacts(input);
  } catch (e) {
    if (e instanceof UserError) return e;
    throw e;
  }
  throw new Error("validateFacts accepted the input");
}

describe("validateFacts", () => {
  it("returns complete, valid facts equal to the input", () => {
    expect(validateFacts(sampleFacts())).toEqual(sampleFacts());
  });

  it("drops nothing and accepts a JSON round trip (as read from a file)", () => {
    const viaJson = JSON.parse(JSON.stringify({ $schema: "https://example.invalid/facts.json", ...sampleFacts() }));
    expect(validateFacts(viaJson)).toEqual(sampleFacts());
  });

  const rows: Array<[string, unknown, string, RegExp]> = [
    ["not an object", "hello", "facts", /is not an object/],
    ["schema 2", broken(["schema"], 2), "facts.schema", /not a supported schema version/],
    [
      "disk size as words",
      broken(["disks", "0", "sizeBytes"], "big"),
      "facts.disks[0].sizeBytes",
      /"big" is not a whole number/,
    ],
    [
      "negative disk size",
      broken(["disks", "0", "sizeBytes"], -5),
      "facts.disks[0].sizeBytes",
      /-5 is not a whole number/,
    ],
    [
      "fractional RAM",
      broken(["memory", "totalBytes"], 1.5),
      "facts.memory.totalBytes",
      /1.5 is not a whole number of bytes/,
    ],
    ["zero RAM", broken(["memory", "totalBytes"], 0), "facts.memory.totalBytes", /0 is not a memory size/],
    ["unknown arch", broken(["arch"], "amd64"), "facts.arch", /"amd64" is not one of "x86_64", "aarch64"/],
    ["unknown virtualisation", broken(["virtualisation"], "kvm2"), "facts.virtualisation", /"kvm2" is not one of/],
    [
      "firmware mode typo",
      broken(["firmware", "mode"], "efi"),
      "facts.firmware.mode",
      /"efi" is not one of "uefi", "bios", "unknown"/,
    ],
    ["secureBoot missing", broken(["firmware", "secureBoot"], undefined), "facts.firmware.secureBoot", /is missing/],
    [
      "secureBoot as string",
      broken(["firmware", "secureBoot"], "yes"),
      "facts.firmware.secureBoot",
      /"yes" is not true or false/,
    ],
    [
      "disk path outside /dev",
      broken(["disks", "0", "path"], "sda"),
      "facts.disks[0].path",
      /not a path under \/dev\//,
    ],
    [
      "by-id link elsewhere",
      broken(["disks", "0", "byId"], ["/dev/sda"]),
      "facts.disks[0].byId[0]",
      /not a path under \/dev\/disk\/by-id\//,
    ],
    ["disks not a list", broken(["disks"], { sda: {} }), "facts.disks", /is not a list/],
    ["transport typo", broken(["disks", "0", "transport"], "sas"), "facts.disks[0].transport", /"sas" is not one of/],
    [
      "relative mountpoint",
      broken(["disks", "0", "partitions", "0", "mountpoints"], ["boot"]),
      "facts.disks[0].partitions[0].mountpoints[0]",
      /absolute mountpoint/,
    ],
    [
      "upper-case MAC",
      broken(["network", "interfaces", "1", "mac"], "96:00:01:AA:BB:CC"),
      "facts.network.interfaces[1].mac",
      /lower-case MAC/,
    ],
    [
      "IPv4 out of range",
      broken(["network", "interfaces", "1", "addresses", "0", "address"], "203.0.113.256"),
      "facts.network.interfaces[1].addresses[0].address",
      /not an IPv4 address/,
    ],
    [
      "IPv6 prefix 129",
      broken(["network", "interfaces", "1", "addresses", "1", "prefix"], 129),
      "facts.network.interfaces[1].addresses[1].prefix",
      /129 is not a prefix length \(0-128\)/,
    ],
    [
      "v4 gateway on v6 route",
      broken(["network", "routes", "1", "gateway"], "172.31.1.1"),
      "facts.network.routes[1].gateway",
      /not an IPv6 address/,
    ],
    [
      "route via unknown interface",
      broken(["network", "routes", "0", "dev"], "ens3"),
      "facts.network.routes[0].dev",
      /not one of the listed interfaces/,
    ],
    [
      "route destination garbage",
      broken(["network", "routes", "0", "destination"], "10.0.0.0/33"),
      "facts.network.routes[0].destination",
      /not "default" or an IPv4 CIDR/,
    ],
    [
      "DNS not an address",
      broken(["network", "dns"], ["dns.google"]),
      "facts.network.dns[0]",
      /not an IPv4 or IPv6 address/,
    ],
    [
      "unknown key with near miss",
      broken(["firmware", "secureboot"], true),
      "facts.firmware.secureboot",
      /is not a known setting/,
    ],
    ["sudo value typo", broken(["access", "sudo"], "nopasswd"), "facts.access.sudo", /"nopasswd" is not one of/],
    ["module with a space", broken(["initrdModules"], ["virtio pci"]), "facts.initrdModules[0]", /kernel module name/],
    ["tools.tar missing", broken(["tools", "tar"], undefined), "facts.tools.tar", /is not true or false/],
  ];

  it.each(rows)("refuses %s", (_name, input, field, message) => {
    const e = errorOf(input);
    expect(e.field).toBe(field);
    expect(e.message.startsWith(`${field}: `)).toBe(true);
    expect(e.message).toMatch(message);
    expect(e.exitCode).toBe(2);
  });

  it("accepts what real machines have: underscores in hostnames, LVM names, spaces in mountpoints", () => {
    const f = sampleFacts();
    f.hostname = "old_box.example";
    f.disks[0]!.partitions[0]!.name = "ubuntu--vg-ubuntu--lv";
    f.disks[0]!.partitions[0]!.mountpoints = ["/media/backup disk", "[SWAP]"];
    f.network.interfaces[1]!.name = "enp0s31f6";
    f.network.routes.forEach((r) => (r.dev = "enp0s31f6"));
    f.network.defaultGateway4!.dev = "enp0s31f6";
    f.network.defaultGateway6!.dev = "enp0s31f6";
    expect(validateFacts(f)).toEqual(f);
  });

  it.each([
    [
      "facts.hostname",
      (f: Json) => {
        f.hostname = "two words";
      },
      /no spaces/,
    ],
    [
      "facts.disks[0].name",
      (f: Json) => {
        at(f, ["disks", "0"]).name = "sd a";
      },
      /device name/,
    ],
    [
      "facts.network.interfaces[1].name",
      (f: Json) => {
        at(f, ["network", "interfaces", "1"]).name = "eth/0";
      },
      /interface name/,
    ],
  ])("refuses what can never be a name: %s", (field, edit, message) => {
    const f = structuredClone(sampleFacts()) as unknown as Json;
    edit(f);
    const e = errorOf(f);
    expect(e.field).toBe(field);
    expect(e.message).toMatch(message);
  });

  it("suggests the right name for a misspelt key", () => {
    expect(errorOf(broken(["firmware", "secureboot"], true)).hint).toBe("did you mean facts.firmware.secureBoot?");
  });

  it("refuses a disk listed twice", () => {
    const f = sampleFacts();
    f.disks.push(structuredClone(f.disks[0]!));
    const e = errorOf(f);
    expect(e.field).toBe("facts.disks[1].name");
    expect(e.message).toMatch(/"sda" appears twice/);
  });
});
