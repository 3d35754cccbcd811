import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, statSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { LocalTarget } from "../../../src/remote/local-target";
import { shellQuote, uploadCommand, wrapForSudo } from "../../../src/remote/ssh-exec";

describe("command builders", () => {
  it("shellQuote survives every awkward character through a real sh", () => {
    const nasty = `it's "quoted" $HOME \`x\` \\ ; | & * \n end`;
    expect(execFileSync("sh", ["-c", `printf %s ${shellQuote(nasty)}`], { encoding: "utf8" })).toBe(nasty);
  });

  it("wrapForSudo runs the whole command line inside one sh -c", () => {
    expect(wrapForSudo("echo a && echo 'b'")).toBe(`sudo -n sh -c 'echo a && echo '\\''b'\\'''`);
  });

  it("upload writes atomically with the mode, creating the folder, leaving no temp file", async () => {
    const dir = mkdtempSync(join(tmpdir(), "nnt-up-"));
    const path = join(dir, "sub dir", "it's.key");
    const local = new LocalTarget();
    await local.upload(path, "secret\n", 0o600);
    expect(readFileSync(path, "utf8")).toBe("secret\n");
    expect(statSync(path).mode & 0o777).toBe(0o600);
    await local.upload(path, "replaced\n", 0o644);
    expect(readFileSync(path, "utf8")).toBe("replaced\n");
    expect(statSync(path).mode & 0o777).toBe(0o644);
    expect(readdirSync(join(dir, "sub dir"))).toEqual(["it's.key"]);
    expect(uploadCommand("/etc/x", 0o640)).toContain("chmod 0640");
  });

  it("LocalTarget.run passes stdin and reports exit codes and timeouts", async () => {
    const local = new LocalTarget();
    expect(await local.run("cat; exit 3", { stdin: "in" })).toMatchObject({ code: 3, stdout: "in" });
    await expect(local.run("sleep 5", { timeoutMs: 100 })).rejects.toThrow(/did not finish within/);
  });
});
