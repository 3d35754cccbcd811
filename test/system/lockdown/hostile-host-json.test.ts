// A hostile flake against a real target (issue 10.1): a host.json whose fields carry shell
// metacharacters, $(...), backticks, newlines, quotes or unicode is refused by the `lockdown`
// command (the built bundle) with exit 2 naming `hosts/<host>/host.json: <field>`, BEFORE any
// connection: the target's sshd logs no login, the command each string smuggles in never ran
// (its marker file exists neither on the target nor here), and host.json is unchanged.
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../../helpers/cli";
import { targetsSupported } from "../../targets";
import { FIELDS, hostileStrings } from "../../unit/flake/host-json-cases";
import { lockdownArgs, startLab, type Lab } from "./fixture";

const supported = targetsSupported();
const MARKER = `/tmp/nixnode-pwned-${process.pid}`;

describe.skipIf(!supported.ok)(
  `lockdown with a hostile host.json${supported.ok ? "" : ` (skipped: ${supported.reason})`}`,
  () => {
    let lab: Lab;
    beforeAll(async () => {
      lab = await startLab();
    });
    afterAll(async () => {
      await lab?.stop();
      rmSync(MARKER, { force: true });
    });

    const markerOnTarget = async () => (await lab.t.exec(`test -e ${MARKER} && echo present || echo absent`)).stdout;

    it("every field with a hostile string: exit 2 naming file and field, no login on the target, nothing ran", async () => {
      const hostile = hostileStrings(MARKER);
      const before = readFileSync(lab.hostJsonPath, "utf8");
      const file = `hosts/${lab.t.name}/host.json`;
      const logBefore = (await lab.t.sshdLog()).length;
      const seen: string[] = [];
      for (const [i, [field, set]] of FIELDS.entries()) {
        // every field gets a hostile string; across the fields every kind of string is used
        const value = hostile[i % hostile.length]!;
        const h = JSON.parse(before);
        if (field.startsWith("network.interfaces[0]"))
          h.network.interfaces = [
            {
              name: "eth0",
              mac: "",
              dhcp4: true,
              ipv6AcceptRA: true,
              addresses: ["203.0.113.7/24"],
              routes: [{ destination: "0.0.0.0/0", gateway: "203.0.113.1", onLink: false }],
            },
          ];
        if (field === "network.dns[0]") h.network.dns = ["192.0.2.53"];
        if (field === "firewall.allowedUDPPorts[0]") h.firewall.allowedUDPPorts = [51820];
        if (field === "fail2ban.ignoreIP[0]") h.fail2ban.ignoreIP = ["198.51.100.9"];
        set(h, value);
        writeFileSync(lab.hostJsonPath, JSON.stringify(h, null, 2) + "\n");
        const edited = readFileSync(lab.hostJsonPath, "utf8");
        const r = await runCli(lockdownArgs(lab), { env: { HOME: lab.work } });
        expect(r.code, `${field} = ${JSON.stringify(value)}: ${r.stderr}`).toBe(2);
        expect(r.stderr, field).toContain(`${file}: ${field}: `);
        expect(readFileSync(lab.hostJsonPath, "utf8"), field).toBe(edited);
        seen.push(field);
      }
      writeFileSync(lab.hostJsonPath, before);
      expect(seen).toHaveLength(FIELDS.length);
      const log = (await lab.t.sshdLog()).slice(logBefore);
      expect(log).not.toMatch(/Accepted|Failed|Invalid user|session opened|Connection from/);
      expect(await markerOnTarget()).toBe("absent\n");
      expect(existsSync(MARKER)).toBe(false);
    });

    it('the reported attack: lockdown.port "2222; touch ..." never reaches the target (exit 2, no session)', async () => {
      const before = readFileSync(lab.hostJsonPath, "utf8");
      const h = JSON.parse(before);
      h.lockdown.port = `2222; touch ${MARKER}`;
      writeFileSync(lab.hostJsonPath, JSON.stringify(h, null, 2) + "\n");
      const logBefore = (await lab.t.sshdLog()).length;
      const r = await runCli(lockdownArgs(lab), { env: { HOME: lab.work } });
      writeFileSync(lab.hostJsonPath, before);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(
        new RegExp(`hosts/${lab.t.name}/host.json: lockdown.port: "2222; touch .*" is not a port number`),
      );
      expect(r.stderr).not.toMatch(/Nothing was changed on the target/);
      expect((await lab.t.sshdLog()).slice(logBefore)).not.toMatch(/Accepted|Failed|session opened/);
      expect(await markerOnTarget()).toBe("absent\n");
    });
  },
);
