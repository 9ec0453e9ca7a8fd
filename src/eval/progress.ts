/** Options for {@link createProgress}. */
export interface ProgressOptions {
  /** Where to write; stderr so stdout stays machine-readable. */
  stream: NodeJS.WriteStream;
  /** Non-TTY: print one line each time another `stepPercent` is crossed. */
  stepPercent: number;
  /** Bar width in characters (TTY only). */
  widthChars: number;
}

export const DEFAULT_PROGRESS_OPTIONS: Readonly<ProgressOptions> = Object.freeze({
  stream: process.stderr, stepPercent: 10, widthChars: 30,
});

/** A progress indicator: `tick(label)` advances by one item; `done()` is idempotent. */
export interface Progress {
  tick(label?: string): void;
  done(): void;
}

/**
 * Progress on stderr: a redrawn bar when the stream is a TTY, otherwise a plain line every
 * `stepPercent` % (logs and CI stay readable instead of filling with carriage returns).
 */
export function createProgress(total: number, title: string, options: Partial<ProgressOptions> = {}): Progress {
  const o = { ...DEFAULT_PROGRESS_OPTIONS, ...options };
  const tty = Boolean(o.stream.isTTY);
  let n = 0;
  let lastStep = -1;
  let finished = false;
  return {
    tick(label = '') {
      if (finished) return;
      n = Math.min(total, n + 1);
      const pct = total > 0 ? (100 * n) / total : 100;
      if (tty) {
        const fill = Math.round((o.widthChars * pct) / 100);
        o.stream.write(`\r${title} [${'#'.repeat(fill)}${'.'.repeat(o.widthChars - fill)}] ${n}/${total} ${label}`.slice(0, 120).padEnd(60));
      } else {
        const step = Math.floor(pct / o.stepPercent);
        if (step !== lastStep) {
          lastStep = step;
          o.stream.write(`${title}: ${n}/${total} (${pct.toFixed(0)}%) ${label}\n`);
        }
      }
    },
    done() {
      if (finished) return;
      finished = true;
      if (tty) o.stream.write('\n');
    },
  };
}
