// What kind of secret a value is, when it looks like one: a private key or an age identity pasted
// (or pointed to) where a public key, a path or a name was expected. Messages say the kind and what
// to give instead, and never echo a single line of the value itself.

/** A description such as "an OpenSSH private key", or null when nothing in `text` looks secret. */
export function secretKind(text: string): string | null {
  if (/-----BEGIN OPENSSH PRIVATE KEY-----/.test(text)) return "an OpenSSH private key";
  if (/-----BEGIN (RSA |EC |DSA |ENCRYPTED )?PRIVATE KEY-----/.test(text)) return "a PEM private key";
  if (/PuTTY-User-Key-File-/.test(text)) return "a PuTTY private key";
  if (/AGE-SECRET-KEY-1/i.test(text)) return "an age identity (AGE-SECRET-KEY-1...)";
  if (/AGE-PLUGIN-[A-Z0-9]+-1/i.test(text)) return "an age plugin identity";
  // the base64 body of an openssh-key-v1 file without its armour lines
  if (/\bb3BlbnNzaC1rZXktdjE/.test(text)) return "part of an OpenSSH private key";
  if (/PRIVATE KEY/.test(text)) return "a private key";
  return null;
}

/** "a PRIVATE key (an OpenSSH private key)" or "a secret (an age identity ...)", for messages. */
export function secretPhrase(kind: string): string {
  return /private key/i.test(kind) ? `a PRIVATE key (${kind})` : `a secret (${kind})`;
}

/** For messages: the value in quotes, or only its kind when it looks like a secret. */
export function describeValue(text: string): string {
  const kind = secretKind(text);
  return kind ? `${kind} (not shown)` : JSON.stringify(text);
}
