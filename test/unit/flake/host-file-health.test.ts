// host.json's optional health.checks (what `switch` checks before it acknowledges): valid checks of
// every kind are accepted as written; each wrong value is refused with exit 2 naming
// `hosts/<host>/host.json: health.checks[i].<field>` and a fix. (Hostile strings in every field:
// host-json-cases.ts FIELDS, run by host-file.test.ts and the hostile-host-json system test.)
import { describe, expect, it } from "vitest";
import { UserError } from "../../../src/errors";
import { parseHostJson } from "../../../src/flake/host-file";
import { validHost } from "./host-json-cases";

const FILE = "hosts/node1/host.json";

function parseWith(health: unknown) {
  return parseHostJson(JSON.stringify({ ...validHost(), health }), FILE);
}
function refusal(health: unknown): UserError {
  try {
    parseWith(health);
  } catch (e) {
    if (e instanceof UserError) return e;
    throw e;
  }
  throw new Error(`accepted: ${JSON.stringify(health)}`);
}

describe("host.json health.checks", () => {
  it("absent, empty, and one valid check of each kind are accepted unchanged", () => {
    expect(parseHostJson(JSON.stringify(validHost()), FILE).health).toBeUndefined();
    expect(parseWith({ checks: [] }).health).toEqual({ checks: [] });
    const checks = [
      { kind: "tcp", name: "NATS on localhost", address: "127.0.0.1", port: 4222, timeoutSec: 10 },
      { kind: "tcp", address: "::1", port: 8332 },
      { kind: "unit", unit: "nats" },
      { kind: "unit", name: "getty", unit: "getty@tty1.service", timeoutSec: 300 },
      { kind: "interface", name: "fleet mesh", interface: "wg-fleet", timeoutSec: 1 },
      { kind: "http", url: "http://localhost:8080/health?full=1", status: 200 },
      { kind: "http", url: "http://[::1]/", status: 204 },
    ];
    expect(parseWith({ checks }).health).toEqual({ checks });
  });

  const tcp = { kind: "tcp", address: "127.0.0.1", port: 4222 };
  const wrong: Array<[string, unknown, string, RegExp]> = [
    ["health not an object", [], "health", /is not an object/],
    ["an unknown key under health", { checks: [], check: [] }, "health.check", /did you mean health\.checks/],
    ["checks not a list", { checks: {} }, "health.checks", /is not a list/],
    ["an unknown kind", { checks: [{ ...tcp, kind: "ping" }] }, "health.checks[0].kind", /is not one of "tcp"/],
    ["a typo in a key", { checks: [{ ...tcp, adress: "x" }] }, "health.checks[0].adress", /did you mean/],
    ["a key of another kind", { checks: [{ ...tcp, unit: "nats" }] }, "health.checks[0].unit", /not a known setting/],
    ["port 0", { checks: [{ ...tcp, port: 0 }] }, "health.checks[0].port", /0 is not a port number/],
    ["port 65536", { checks: [{ ...tcp, port: 65536 }] }, "health.checks[0].port", /not a port number/],
    ["port as a string", { checks: [{ ...tcp, port: "4222" }] }, "health.checks[0].port", /not a port number/],
    [
      "a host name as address",
      { checks: [{ ...tcp, address: "localhost" }] },
      "health.checks[0].address",
      /not an IP address/,
    ],
    [
      "an address with a prefix",
      { checks: [{ ...tcp, address: "10.0.0.1/8" }] },
      "health.checks[0].address",
      /not an IP/,
    ],
    ["timeoutSec 0", { checks: [{ ...tcp, timeoutSec: 0 }] }, "health.checks[0].timeoutSec", /1-300/],
    ["timeoutSec 301", { checks: [{ ...tcp, timeoutSec: 301 }] }, "health.checks[0].timeoutSec", /1-300/],
    ["timeoutSec 1.5", { checks: [{ ...tcp, timeoutSec: 1.5 }] }, "health.checks[0].timeoutSec", /1-300/],
    ["a name with a quote", { checks: [{ ...tcp, name: 'a"b' }] }, "health.checks[0].name", /not a label/],
    ["an empty name", { checks: [{ ...tcp, name: "" }] }, "health.checks[0].name", /not a label/],
    ["a unit starting with -", { checks: [{ kind: "unit", unit: "--now" }] }, "health.checks[0].unit", /systemd unit/],
    ["a unit with a slash", { checks: [{ kind: "unit", unit: "../x" }] }, "health.checks[0].unit", /systemd unit/],
    ["a unit with a space", { checks: [{ kind: "unit", unit: "a b" }] }, "health.checks[0].unit", /systemd unit/],
    ["a missing unit", { checks: [{ kind: "unit" }] }, "health.checks[0].unit", /missing is not a string/],
    [
      "an interface name longer than 15",
      { checks: [{ kind: "interface", interface: "wg-fleet-longer-name" }] },
      "health.checks[0].interface",
      /interface name/,
    ],
    [
      "interface ..",
      { checks: [{ kind: "interface", interface: ".." }] },
      "health.checks[0].interface",
      /interface name/,
    ],
    [
      "interface -x",
      { checks: [{ kind: "interface", interface: "-x" }] },
      "health.checks[0].interface",
      /interface name/,
    ],
    [
      "an http URL off the node",
      { checks: [{ kind: "http", url: "http://203.0.113.7/", status: 200 }] },
      "health.checks[0].url",
      /on localhost/,
    ],
    [
      "https",
      { checks: [{ kind: "http", url: "https://localhost/", status: 200 }] },
      "health.checks[0].url",
      /http:\/\/ URL/,
    ],
    [
      "a URL with user info",
      { checks: [{ kind: "http", url: "http://a@localhost/", status: 200 }] },
      "health.checks[0].url",
      /http:\/\/ URL/,
    ],
    [
      "a URL with port 70000",
      { checks: [{ kind: "http", url: "http://localhost:70000/", status: 200 }] },
      "health.checks[0].url",
      /port number/,
    ],
    [
      "status 99",
      { checks: [{ kind: "http", url: "http://localhost/", status: 99 }] },
      "health.checks[0].status",
      /HTTP status code \(100-599\)/,
    ],
    ["the second check wrong", { checks: [tcp, { ...tcp, port: -1 }] }, "health.checks[1].port", /not a port/],
  ];
  for (const [what, health, field, msg] of wrong) {
    it(`refuses ${what}: exit 2 naming ${field}`, () => {
      const e = refusal(health);
      expect(e.exitCode).toBe(2);
      expect(e.field).toBe(`${FILE}: ${field}`);
      expect(`${e.message} (${e.hint})`).toMatch(msg);
      expect(e.hint).toBeTruthy();
    });
  }
});
