import { describe, expect, it } from "vitest";
import { UserError } from "../../../src/errors";
import { formatDestination, parseDestination } from "../../../src/remote/destination";

describe("parseDestination", () => {
  it.each([
    ["203.0.113.7", { user: undefined, host: "203.0.113.7", port: undefined }],
    ["root@203.0.113.7", { user: "root", host: "203.0.113.7", port: undefined }],
    ["root@203.0.113.7:2222", { user: "root", host: "203.0.113.7", port: 2222 }],
    ["node.example.org", { user: undefined, host: "node.example.org", port: undefined }],
    ["admin@node.example.org:22", { user: "admin", host: "node.example.org", port: 22 }],
    ["my-vps", { user: undefined, host: "my-vps", port: undefined }],
    ["root@[2001:db8::1]:22", { user: "root", host: "2001:db8::1", port: 22 }],
    ["[2001:db8::1]", { user: undefined, host: "2001:db8::1", port: undefined }],
    ["2001:db8::1", { user: undefined, host: "2001:db8::1", port: undefined }],
    ["root@2001:db8:0:0:1:0:0:1", { user: "root", host: "2001:db8:0:0:1:0:0:1", port: undefined }],
    ["root@fe80::1%eth0", { user: "root", host: "fe80::1%eth0", port: undefined }],
    ["ssh://root@203.0.113.7:2222", { user: "root", host: "203.0.113.7", port: 2222 }],
    ["  root@203.0.113.7  ", { user: "root", host: "203.0.113.7", port: undefined }],
  ])("%s", (input, expected) => {
    expect(parseDestination(input)).toEqual(expected);
  });

  it.each([
    ["root@203.0.113.7:833w", /"833w" is not a port number \(1-65535\)/],
    ["root@203.0.113.7:0", /"0" is not a port number/],
    ["root@203.0.113.7:65536", /"65536" is not a port number/],
    ["root@203.0.113.7:", /"" is not a port number/],
    ["@203.0.113.7", /empty user name/],
    ["root@", /no host after "@"/],
    ["root@my host", /contains a space/],
    ["", /is empty/],
    ["root@[2001:db8::1", /never closes/],
    ["root@[2001:db8::1]x", /unexpected "x" after "]"/],
    ["root@2001:db8::1:22:x", /not a valid IPv6 address/],
    ["root@bad_host!", /is not an IP address or host name/],
    ["ro ot@host", /contains a space/],
    ["r;m@host", /is not a valid user name/],
  ])("%s is refused with a message naming the field", (input, message) => {
    let err: unknown;
    try {
      parseDestination(input, "target");
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).field).toBe("target");
    expect((err as UserError).message).toMatch(/^target: /);
    expect((err as UserError).message).toMatch(message);
    expect((err as UserError).hint).toBeTruthy();
  });

  it("names the field it was given", () => {
    expect(() => parseDestination("root@h:99999", "hosts[2].ssh")).toThrow(/^hosts\[2\]\.ssh: /);
  });

  it("formats back, bracketing IPv6", () => {
    expect(formatDestination({ user: "root", host: "2001:db8::1", port: 22 })).toBe("root@[2001:db8::1]:22");
    expect(formatDestination({ host: "203.0.113.7" })).toBe("203.0.113.7");
  });
});
