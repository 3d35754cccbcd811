// The probe shipped to targets: a POSIX sh script (probe.sh, a real file so that it can be read,
// linted and run on its own) bundled as text. It is fed on stdin to `sh -s`, so the command line
// stays short and the script never appears in the target's process list or in argv limits.
import script from "./probe.sh?raw";

export const PROBE_SCRIPT: string = script;
/** What detect runs on the target: the script arrives on stdin. */
export const PROBE_COMMAND = "sh -s";
/** The first line of a probe's output, and the format version the parser understands. */
export const PROBE_HEADER = "@@nixnode-probe 1";
