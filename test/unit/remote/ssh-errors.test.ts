// Error wording for failures the system tests cannot produce without leaving the sandbox (DNS).
import { describe, expect, it } from "vitest";
import { OperationError, UserError } from "../../../src/errors";
import { describeAuthFailure, describeConnectError, type AuthTrace } from "../../../src/remote/ssh-errors";

const err = (code: string) => Object.assign(new Error(code), { code }) as NodeJS.ErrnoException;
const trace = (t: Partial<AuthTrace>): AuthTrace => ({
  user: "root",
  where: "root@h:22",
  tried: [],
  offered: null,
  keyAcceptedThenRefused: false,
  passwordTried: false,
  hadCredentials: true,
  ...t,
});

describe("ssh error wording", () => {
  it.each([
    ["ENOTFOUND", /cannot resolve the host name "h"/],
    ["EAI_AGAIN", /cannot resolve the host name "h"/],
    ["ECONNREFUSED", /connection refused on port 22/],
    ["EHOSTUNREACH", /no route to h/],
    ["ENETUNREACH", /no route to h/],
    ["ETIMEDOUT", /no answer/],
    ["ECONNRESET", /reset during the SSH handshake/],
  ])("%s", (code, re) => {
    const e = describeConnectError(err(code), "h", 22, "root@h:22");
    expect(e).toBeInstanceOf(OperationError);
    expect(e.message).toMatch(re);
    expect((e as OperationError).hint).toBeTruthy();
  });

  it("auth failures name the likely cause", () => {
    expect(describeAuthFailure(trace({ keyAcceptedThenRefused: true })).message).toMatch(/root login is disabled/);
    expect(describeAuthFailure(trace({ passwordTried: true, offered: ["publickey", "password"] })).message).toMatch(
      /password was not accepted/,
    );
    expect(describeAuthFailure(trace({ offered: ["publickey"] })).message).toMatch(/only public-key login/);
    expect(describeAuthFailure(trace({ hadCredentials: false }))).toBeInstanceOf(UserError);
  });
});
