// `secrets edit` as an operator meets it at a real terminal (tmux): a passphrase-protected SSH key
// is asked for once, the typed passphrase is not echoed, $EDITOR runs, the new value is encrypted.
import { execFile } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tmuxServer } from "../../helpers/tmux";
import { BIN } from "../../helpers/cli";
import { secretsContextWithHostKey, writeSecret } from "../../../src/secrets/store";
import { HAVE_AGE, HAVE_SSH_KEYGEN, runWithTty, scratch, sshKeygen } from "../../unit/secrets/tools";

const run = promisify(execFile);
const { available: hasTmux, tmux, screen, waitFor } = tmuxServer("nnt-secrets");

const PASSPHRASE = "typed-passphrase-7781";

describe.skipIf(!hasTmux || !HAVE_AGE || !HAVE_SSH_KEYGEN)(
  `secrets edit at a terminal${hasTmux ? "" : " (skipped: tmux is missing)"}`,
  () => {
    const s = scratch();
    const flake = s.path("node");
    beforeAll(async () => {
      sshKeygen(s.path("op"), "ed25519", { passphrase: PASSPHRASE, comment: "alice@laptop" });
      mkdirSync(flake);
      writeFileSync(
        join(flake, "nixnode.json"),
        JSON.stringify({ hostname: "gamma", ssh: { authorizedKeys: [readFileSync(s.path("op.pub"), "utf8").trim()] } }),
      );
      const { ctx } = await secretsContextWithHostKey(flake);
      await writeSecret(ctx, "api-token", new TextEncoder().encode("old-token-value"));
      writeFileSync(
        s.path("editor.sh"),
        `#!/bin/sh\ncat "$1" > "${s.path("editor-saw")}"\nprintf 'new-token-value' > "$1"\n`,
      );
      chmodSync(s.path("editor.sh"), 0o755);
      // an editor in the terminal's cooked mode (like ed): Ctrl-C reaches the whole foreground group
      writeFileSync(
        s.path("slow-editor.sh"),
        `#!/bin/sh\nprintf 'half-typed-value' > "$1"\necho EDITOR-IS-OPEN\nsleep 60\n`,
      );
      chmodSync(s.path("slow-editor.sh"), 0o755);
      mkdirSync(s.path("tmp"));
    });
    afterAll(async () => {
      await tmux("kill-server").catch(() => undefined); // only this test's own tmux server (-L)
      s.remove();
    });

    it("asks for the key's passphrase once, hides it, and re-encrypts what the editor wrote", async () => {
      const cmd = `env HOME='${s.dir}' NO_COLOR=1 TERM=xterm-256color EDITOR='${s.path("editor.sh")}' '${process.execPath}' '${BIN}' secrets edit api-token -i '${s.path("op")}' --flake '${flake}' --log-dir '${s.path("logs")}'; echo "EXIT=$?"; sleep 600`;
      await tmux("new-session", "-d", "-s", "edit", "-x", "160", "-y", "40", cmd);
      await waitFor("edit", /Passphrase for --identity/);
      await tmux("send-keys", "-t", "edit", "-l", PASSPHRASE);
      await tmux("send-keys", "-t", "edit", "Enter");
      const done = await waitFor("edit", /EXIT=\d+/, 90_000);
      expect(done).toMatch(/EXIT=0/);
      expect(done).toMatch(/Updated secrets\/api-token.age/);
      expect(done).not.toContain(PASSPHRASE);
      expect(done.match(/Passphrase for/g)).toHaveLength(1);
      expect(readFileSync(s.path("editor-saw"), "utf8")).toBe("old-token-value");
      // this operator key is passphrase-protected for age too: check through a pty
      const r = runWithTty(["age", "-d", "-i", s.path("op"), join(flake, "secrets/api-token.age")], `${PASSPHRASE}\n`);
      expect(r.status, r.output).toBe(0);
      expect(r.output).toContain("new-token-value");
    });

    it("Ctrl-C while the editor is open cancels: exit 130, the secret unchanged, the plaintext folder removed", async () => {
      const before = readFileSync(join(flake, "secrets/api-token.age"));
      const cmd = `env HOME='${s.dir}' TMPDIR='${s.path("tmp")}' NO_COLOR=1 TERM=xterm-256color EDITOR='${s.path("slow-editor.sh")}' '${process.execPath}' '${BIN}' secrets edit api-token -i '${s.path("op")}' --flake '${flake}' --log-dir '${s.path("logs")}'; echo "EXIT=$?"; sleep 600`;
      await tmux("new-session", "-d", "-s", "cancel", "-x", "160", "-y", "40", cmd);
      await waitFor("cancel", /Passphrase for --identity/);
      await tmux("send-keys", "-t", "cancel", "-l", PASSPHRASE);
      await tmux("send-keys", "-t", "cancel", "Enter");
      await waitFor("cancel", /EDITOR-IS-OPEN/);
      const plaintextDirs = () => readdirSync(s.path("tmp")).filter((d) => d.startsWith("nixnode-edit-"));
      expect(plaintextDirs()).toHaveLength(1);
      await tmux("send-keys", "-t", "cancel", "C-c");
      const done = await waitFor("cancel", /EXIT=\d+/, 30_000);
      expect(done).toMatch(/EXIT=130/);
      expect(done).toMatch(/Cancelled while the editor was open; secrets\/api-token\.age was not changed/);
      expect(readFileSync(join(flake, "secrets/api-token.age"))).toEqual(before);
      expect(plaintextDirs()).toEqual([]);
      const r = runWithTty(["age", "-d", "-i", s.path("op"), join(flake, "secrets/api-token.age")], `${PASSPHRASE}\n`);
      expect(r.status, r.output).toBe(0);
      expect(r.output).toContain("new-token-value"); // what the first test saved, not the cancelled edit
      expect(r.output).not.toContain("half-typed-value");
    });
  },
);
