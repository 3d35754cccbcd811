// Removing the key the operator logs in with: refused before activation unless another key that
// stays authorised is proven, by a real new login, to work.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { targetsSupported } from "../../targets";
import { nixosState } from "../../targets/personalities/nixos/setup";
import { makeKeyPair, type KeyPair } from "../../helpers/ssh-keys";
import { NEW_PORT, type Lab } from "../lockdown/fixture";
import { tryLogin } from "../lockdown/login";
import { editHost, lockedDownLab, runSwitchOn } from "./fixture";

const supported = targetsSupported();

describe.skipIf(!supported.ok)(
  `switch: authorized keys${supported.ok ? "" : ` (skipped: ${supported.reason})`}`,
  () => {
    let lab: Lab;
    let second: KeyPair;
    beforeAll(async () => {
      lab = await lockedDownLab();
      second = await makeKeyPair(lab.work, { comment: "second@desk" });
    }, 180_000);
    afterAll(() => lab?.stop());

    it("replacing the operator's only key is refused before activation; the target is unchanged", async () => {
      const before = await nixosState(lab.t);
      editHost(lab, (h) => (h.ssh.authorizedKeys = [second.publicKey]));
      const r = await runSwitchOn(lab);
      expect(r.error?.exitCode).toBe(2);
      expect(r.error?.message).toMatch(/the key you are logged in with .* is removed from ssh\.authorizedKeys/);
      expect((await nixosState(lab.t)).profileLink).toBe(before.profileLink);
      expect(await tryLogin({ host: lab.t.address, port: NEW_PORT, privateKeyPath: second.privatePath })).toMatchObject(
        {
          ok: false,
        },
      );
    }, 60_000);

    it("adding a second key is confirmed; then removing the first is allowed because the second logs in", async () => {
      editHost(lab, (h) => (h.ssh.authorizedKeys = [lab.key.publicKey, second.publicKey]));
      const both = [
        { publicKey: lab.key.publicKey, privatePath: lab.key.privatePath },
        { publicKey: second.publicKey, privatePath: second.privatePath },
      ];
      const add = await runSwitchOn(lab, { operatorKeys: both });
      expect(add.error?.message).toBeUndefined();
      expect(add.output).toMatch(/authorized keys added: ssh-ed25519 .*second@desk/);

      editHost(lab, (h) => (h.ssh.authorizedKeys = [second.publicKey]));
      const remove = await runSwitchOn(lab, { operatorKeys: both });
      expect(remove.error?.message).toBeUndefined();
      expect(remove.output).toContain(`a new login with ${second.privatePath}`);
      expect(await tryLogin({ host: lab.t.address, port: NEW_PORT, privateKeyPath: second.privatePath })).toMatchObject(
        {
          ok: true,
        },
      );
      // the NixOS-managed key list no longer has the first key (a copy in ~/.ssh/authorized_keys, which
      // the harness put there like an installer would, is outside what host.json manages)
      const managed = (await lab.t.exec("cat /etc/ssh/authorized_keys.d/root")).stdout;
      expect(managed).toContain(second.publicKey.split(" ")[1]);
      expect(managed).not.toContain(lab.key.publicKey.split(" ")[1]);
    }, 180_000);
  },
);
