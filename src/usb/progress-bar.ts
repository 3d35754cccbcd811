// Progress for the download, the write and the read-back: bytes, rate and time left. On a terminal one
// line redrawn in place; in a log or pipe a line per tenth; with --json an "info" event carrying
// data.progress { phase, bytes, total, bytesPerSecond, secondsLeft } at most twice a second.
import type { Output } from "../ui/output";
import { humanBytes, humanDuration } from "./human-size";
import type { Progress } from "./image-source";

export interface ProgressBar {
  update: Progress;
  /** Ends the line (terminal) so the next message starts on its own. */
  finish(): void;
}

export function progressBar(out: Output, phase: string, label: string, now: () => number = Date.now): ProgressBar {
  const started = now();
  let lastEmit = 0;
  let lastTenth = -1;
  let drawn = false;
  const line = (done: number, total: number) => {
    const secs = Math.max((now() - started) / 1000, 0.001);
    const rate = done / secs;
    const left = total > 0 && rate > 0 ? (total - done) / rate : NaN;
    const frac = total > 0 ? Math.min(done / total, 1) : 0;
    const bar = total > 0 ? `[${"#".repeat(Math.round(frac * 24)).padEnd(24, ".")}] ` : "";
    const text = `${label} ${bar}${humanBytes(done)}${total ? ` / ${humanBytes(total)}` : ""}  ${humanBytes(rate)}/s  ${
      total ? `${humanDuration(left)} left` : ""
    }`.trimEnd();
    return { text, rate, left, frac };
  };
  return {
    update(done, total) {
      const t = now();
      const last = total > 0 && done >= total;
      if (out.json) {
        if (!last && t - lastEmit < 500 && lastEmit !== 0) return;
        lastEmit = t;
        const l = line(done, total);
        out.info(l.text, {
          progress: {
            phase,
            bytes: done,
            total,
            bytesPerSecond: Math.round(l.rate),
            secondsLeft: Number.isFinite(l.left) ? Math.round(l.left) : null,
          },
        });
      } else if (out.interactive) {
        if (!last && t - lastEmit < 200) return;
        lastEmit = t;
        out.text(`\r${line(done, total).text}\x1b[K`);
        drawn = true;
      } else {
        const tenth = total > 0 ? Math.floor((done / total) * 10) : -1;
        if (tenth === lastTenth) return;
        lastTenth = tenth;
        out.text(line(done, total).text + "\n");
      }
    },
    finish() {
      if (drawn) out.text("\n");
      drawn = false;
    },
  };
}
