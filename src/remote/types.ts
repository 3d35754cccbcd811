// What every phase sees of a machine: run a command, upload a file, close. SshTarget (one ssh2
// connection) and LocalTarget (this machine, for --local) implement it; tests may hand in fakes.

export interface RunOptions {
  stdin?: string | Buffer;
  onStdout?(chunk: string): void;
  onStderr?(chunk: string): void;
  /** Bounded wait: the command is abandoned (and its channel closed) after this long. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface RunResult {
  /** null when the command ended by a signal or the connection dropped before it reported */
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

export interface Target {
  /** For messages: `root@203.0.113.7:22` or `this machine`. */
  description: string;
  /** Runs a POSIX sh command line (as root: via sudo -n when the login user is not root). */
  run(command: string, opts?: RunOptions): Promise<RunResult>;
  /** Writes a file atomically (temporary file + mv) with the given mode. */
  upload(path: string, data: string | Buffer, mode: number): Promise<void>;
  close(): Promise<void>;
}
