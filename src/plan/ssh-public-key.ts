// Operator public keys: the one thing that, if wrong, locks the operator out of the new system.
// Each line must be an OpenSSH public key of a type current OpenSSH accepts; a pasted private key
// or a DSA/short RSA key is refused with the fix; a pasted secret is named by its kind, never quoted.
import { createHash, createPublicKey } from "node:crypto";
import { utils as sshUtils } from "ssh2";
import { badField } from "../errors";
import { secretKind, secretPhrase } from "../util/secret-kind";

export interface ParsedPublicKey {
  /** The key line as written into authorized_keys: "type base64 [comment]". */
  line: string;
  type: string;
  /** SHA256:... as ssh-keygen -lf prints it. */
  fingerprint: string;
  comment: string;
}

const SK_TYPES = ["sk-ssh-ed25519@openssh.com", "sk-ecdsa-sha2-nistp256@openssh.com"] as const;
const ACCEPTED =
  "ssh-ed25519, ssh-rsa (2048 bits or more), ecdsa-sha2-nistp256/384/521, sk-ssh-ed25519@openssh.com, sk-ecdsa-sha2-nistp256@openssh.com";

export function parsePublicKey(value: unknown, field: string): ParsedPublicKey {
  if (typeof value !== "string")
    throw badField(
      field,
      `${value === undefined ? "missing" : JSON.stringify(value)} is not a public key line`,
      "paste the contents of your ~/.ssh/id_ed25519.pub",
    );
  const line = value.trim();
  // Checked before anything quotes the value: a secret is named by its kind, never echoed.
  const kind = secretKind(line);
  if (kind) {
    throw badField(
      field,
      `this is ${secretPhrase(kind)}; it is not shown`,
      kind.startsWith("an age")
        ? "an operator key is an SSH public key (the contents of ~/.ssh/id_ed25519.pub); age identities are not SSH keys"
        : "never share it; paste the matching .pub file instead (ssh-keygen -y -f KEY prints it)",
    );
  }
  if (line === "") throw badField(field, "is empty", "paste the contents of your ~/.ssh/id_ed25519.pub");
  if (/[\r\n]/.test(line)) throw badField(field, "holds more than one line", "give one key per list entry");
  const parts = line.split(/\s+/);
  const [type, blob] = parts;
  const comment = parts.slice(2).join(" ");
  if (!type || !blob)
    throw badField(
      field,
      `${JSON.stringify(short(line))} is not an OpenSSH public key`,
      `expected "TYPE BASE64 [comment]" with TYPE one of ${ACCEPTED}`,
    );
  if (type === "ssh-dss")
    throw badField(field, "DSA keys are no longer accepted by OpenSSH", "create an ed25519 key: ssh-keygen -t ed25519");
  const bytes = decodeBase64(blob);
  if (!bytes)
    throw badField(
      field,
      `the key data of ${JSON.stringify(short(line))} is not valid base64`,
      "copy the whole line from the .pub file",
    );
  const blobType = readString(bytes, 0)?.value.toString("latin1");
  if (blobType !== type)
    throw badField(
      field,
      `the key data does not match its type "${type}"`,
      "copy the whole line from the .pub file, unchanged",
    );
  const fingerprint = `SHA256:${sshFingerprint(bytes)}`;
  if ((SK_TYPES as readonly string[]).includes(type)) {
    checkSecurityKeyBlob(bytes, type, field);
    return { line, type, fingerprint, comment };
  }
  const unsupported = () => badField(field, `"${type}" is not a supported public key type`, `use one of ${ACCEPTED}`);
  if (!["ssh-ed25519", "ssh-rsa", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521"].includes(type))
    throw unsupported();
  // ssh2 turns the wire blob into a PEM and Node's OpenSSL loads it: a point off the curve or a
  // truncated modulus fails here, as it would in sshd
  const parsed = sshUtils.parseKey(`${type} ${blob}`);
  let pem: string;
  try {
    if (parsed instanceof Error || Array.isArray(parsed)) throw parsed;
    pem = parsed.getPublicPEM();
    createPublicKey(pem);
  } catch {
    throw badField(
      field,
      `the ${type} key data is truncated or malformed`,
      "copy the whole line from the .pub file, unchanged",
    );
  }
  if (type === "ssh-rsa") {
    const bits = createPublicKey(pem).asymmetricKeyDetails?.modulusLength ?? 0;
    if (bits < 2048)
      throw badField(
        field,
        `this RSA key has ${bits} bits; at least 2048 are required`,
        "create an ed25519 key: ssh-keygen -t ed25519",
      );
  }
  return { line, type, fingerprint, comment };
}

function short(s: string): string {
  return s.length > 40 ? `${s.slice(0, 37)}...` : s;
}

function decodeBase64(s: string): Buffer | null {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(s) || s.length % 4 !== 0) return null;
  return Buffer.from(s, "base64");
}

function readString(b: Buffer, at: number): { value: Buffer; next: number } | null {
  if (at + 4 > b.length) return null;
  const len = b.readUInt32BE(at);
  if (at + 4 + len > b.length) return null;
  return { value: b.subarray(at + 4, at + 4 + len), next: at + 4 + len };
}

/** ssh2 and OpenSSL do not know the FIDO key types; check their wire layout by hand (PROTOCOL.u2f). */
function checkSecurityKeyBlob(b: Buffer, type: string, field: string): void {
  const bad = () =>
    badField(field, `the ${type} key data is truncated or malformed`, "copy the whole line from the .pub file");
  let at = readString(b, 0)!.next;
  if (type === "sk-ecdsa-sha2-nistp256@openssh.com") {
    const curve = readString(b, at);
    if (!curve || curve.value.toString() !== "nistp256") throw bad();
    at = curve.next;
  }
  const pub = readString(b, at);
  if (!pub || (type.startsWith("sk-ssh-ed25519") && pub.value.length !== 32)) throw bad();
  const application = readString(b, pub.next);
  if (!application || application.next !== b.length || !application.value.toString().startsWith("ssh:")) throw bad();
}

/** ssh-keygen -lf: base64 of SHA-256 over the key's wire blob, without padding. */
function sshFingerprint(blob: Buffer): string {
  return createHash("sha256").update(blob).digest("base64").replace(/=+$/, "");
}
