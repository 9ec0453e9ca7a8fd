/**
 * Progress on stderr (stdout stays machine-readable): a redrawn bar on a terminal, a line at every
 * quarter otherwise (logs and CI stay readable), nothing when quiet. `done()` is idempotent.
 */
export interface ProgressReporter {
  update(fraction: number, label?: string): void;
  done(): void;
}

export function progressReporter(quiet: boolean, stream: NodeJS.WriteStream = process.stderr): ProgressReporter {
  if (quiet) return { update() {}, done() {} };
  const tty = stream.isTTY === true;
  let lastStep = -1;
  let shown = false;
  return {
    update(fraction, label = '') {
      const f = Math.max(0, Math.min(1, fraction));
      if (tty) {
        const width = 30;
        const filled = Math.round(f * width);
        stream.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(f * 100).toFixed(0).padStart(3)}% ${label.slice(0, 40).padEnd(40)}`);
        shown = true;
      } else {
        const step = Math.floor(f * 4);
        if (step > lastStep) {
          lastStep = step;
          stream.write(`progress ${(f * 100).toFixed(0)}% ${label}\n`);
        }
      }
    },
    done() {
      if (tty && shown) stream.write('\n');
      shown = false;
    },
  };
}
