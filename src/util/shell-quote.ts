// The ONE shell-quoting helper. Every value that comes from a file, a flag or a target's answer and
// reaches a remote (or local) shell goes through it. Safe words stay readable in logs and dry runs;
// anything else is single-quoted, with embedded single quotes closed, escaped and reopened.
export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_./:=@%+,-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}
