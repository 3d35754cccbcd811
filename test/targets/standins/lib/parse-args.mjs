// The nixos-anywhere 1.13 command line, as src/nixos-anywhere.sh parses it, made STRICT: every flag
// or combination that 1.13 rejects, ignores silently, or misparses is an abort here, so that a test
// run through this stand-in proves the tool never emits one. Returns the parsed options or throws
// Abort (printed as `aborted: ...`, exit 1, like the real `abort` helper).
export class Abort extends Error {}

const PHASES = ["kexec", "disko", "install", "reboot"];
const DEPRECATED = {
  "-t": "tty",
  "--tty": "tty",
  "--stop-after-disko": "phases",
  "--no-reboot": "phases",
  "--build-on-remote": "build-on",
};

export function parseNixosAnywhereArgs(argv) {
  const o = {
    flake: null,
    flakeAttr: null,
    host: null,
    identityFile: null,
    sshPort: null,
    postKexecSshPort: null,
    sshOptions: [],
    extraFiles: null,
    hardwareConfig: null,
    phases: [...PHASES],
    buildOn: "auto",
    noDiskoDeps: false,
    envPassword: false,
    vmTest: false,
    kexec: null,
    copyHostKeys: false,
    diskEncryptionKeys: [],
    chown: [],
    storePaths: null,
    diskoMode: null,
    warnings: [],
  };
  const a = [...argv];
  const need = (flag, n = 1) => {
    if (a.length < n) throw new Abort(`${flag} needs ${n} argument(s)`);
    const vals = a.splice(0, n);
    for (const v of vals)
      if (v.startsWith("-")) throw new Abort(`${flag} got ${JSON.stringify(v)} as its value: a flag cannot be a value`);
    return n === 1 ? vals[0] : vals;
  };
  while (a.length) {
    const f = a.shift();
    switch (f) {
      case "-f":
      case "--flake":
        o.flake = need(f);
        break;
      case "--target-host":
        if (o.host) throw new Abort("more than one target host");
        o.host = need(f);
        break;
      case "-i":
        o.identityFile = need(f);
        break;
      case "-p":
      case "--ssh-port":
        o.sshPort = need(f);
        break;
      case "--ssh-option":
        o.sshOptions.push(need(f));
        break;
      case "-L":
      case "--print-build-logs":
      case "--show-trace":
      case "--debug":
        break;
      case "-s":
      case "--store-paths":
        o.storePaths = need(f, 2);
        break;
      case "--generate-hardware-config": {
        const [backend, path] = need(f, 2);
        if (!["nixos-facter", "nixos-generate-config"].includes(backend))
          throw new Abort(`Unknown hardware config backend: ${backend}`);
        o.hardwareConfig = { backend, path };
        break;
      }
      case "--kexec":
        o.kexec = need(f);
        break;
      case "--kexec-extract-path":
      case "--kexec-launch-path":
      case "--kexec-extra-flags":
      case "--from":
        need(f);
        break;
      case "--force-kexec":
        // 1.13 shifts twice here: whatever follows is swallowed. Emitting it before anything is a bug.
        if (a.length)
          throw new Abort(`--force-kexec followed by ${JSON.stringify(a[0])}: 1.13 swallows the next argument`);
        break;
      case "--ssh-store-setting":
      case "--option":
        need(f, 2);
        break;
      case "--post-kexec-ssh-port":
        o.postKexecSshPort = need(f);
        break;
      case "--copy-host-keys":
        o.copyHostKeys = true;
        break;
      case "--disko-mode": {
        const m = need(f);
        if (!["disko", "mount", "format"].includes(m))
          throw new Abort(`Supported values for --disko-mode are disko, mount and format. Unknown mode : ${m}`);
        o.diskoMode = m;
        break;
      }
      case "--no-disko-deps":
        o.noDiskoDeps = true;
        break;
      case "--build-on": {
        const m = need(f);
        if (!["auto", "local", "remote"].includes(m))
          throw new Abort(`Supported values for --build-on are auto, local and remote. Unknown mode : ${m}`);
        o.buildOn = m;
        break;
      }
      case "--extra-files":
        o.extraFiles = need(f);
        break;
      case "--chown":
        o.chown.push(need(f, 2));
        break;
      case "--disk-encryption-keys":
        o.diskEncryptionKeys.push(need(f, 2));
        break;
      case "--phases": {
        const list = need(f).split(",");
        for (const p of list) if (!PHASES.includes(p)) throw new Abort(`Unknown phase: ${p}`);
        o.phases = PHASES.filter((p) => list.includes(p));
        break;
      }
      case "--no-substitute-on-destination":
      case "--no-use-machine-substituters":
        break;
      case "--env-password":
        o.envPassword = true;
        break;
      case "--vm-test":
        o.vmTest = true;
        break;
      case "--help":
        throw new Abort("--help is not something the tool should run");
      default:
        if (f in DEPRECATED) {
          o.warnings.push(`${f} is deprecated`);
          break;
        }
        if (f.startsWith("-")) throw new Abort(`unknown flag ${f}: 1.13 would take it for the ssh host`);
        if (o.host) throw new Abort(`more than one host: ${o.host} and ${f} (1.13 prints its usage and exits 1)`);
        o.host = f;
    }
  }
  if (o.diskoMode && o.storePaths) throw new Abort("--disko-mode cannot be used if --store-paths is used");
  if (!o.vmTest && !o.host) throw new Abort("ssh-host must be set");
  if (o.flake !== null) {
    const m = /^(.*)#([^#"]*)$/.exec(o.flake);
    if (!m || !m[2])
      throw new Abort(
        "Please specify the name of the NixOS configuration to be installed, as a URI fragment in the flake-uri.",
      );
    o.flake = m[1];
    o.flakeAttr = m[2];
  } else if (!o.storePaths) throw new Abort("--flake or --store-paths must be set");
  // 1.13 honours --post-kexec-ssh-port only by rewriting an existing -p entry (#515): alone it is ignored.
  if (o.postKexecSshPort !== null && o.sshPort === null)
    throw new Abort("--post-kexec-ssh-port without -p is silently ignored by 1.13 (#515)");
  for (const [flag, v] of [
    ["-p", o.sshPort],
    ["--post-kexec-ssh-port", o.postKexecSshPort],
  ]) {
    if (v !== null && !/^\d+$/.test(v)) throw new Abort(`${flag}: ${JSON.stringify(v)} is not a port`);
  }
  if (o.vmTest) {
    if (o.storePaths) throw new Abort("--vm-test is not supported with --store-paths");
    if (o.buildOn === "remote") throw new Abort("--vm-test is not supported with --build-on-remote");
    if (o.extraFiles) throw new Abort("--vm-test is not supported with --extra-files");
    if (o.diskEncryptionKeys.length) throw new Abort("--vm-test is not supported with --disk-encryption-keys");
    if (o.hardwareConfig) throw new Abort("--vm-test is not supported with --generate-hardware-config");
  }
  return o;
}
