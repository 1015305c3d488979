/**
 * A download progress indicator on stderr. On a terminal it redraws one line (at most ten times a
 * second); in a log or CI it prints a line at every 10 % (or every 10 MB when the size is unknown).
 */

export interface Progress {
  update(done: number, total: number | null): void;
  finish(message: string): void;
}

export interface ProgressStream {
  write(chunk: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

const MB = 1024 * 1024;

function mb(n: number): string {
  return `${(n / MB).toFixed(1)} MB`;
}

export function createProgress(label: string, out: ProgressStream = process.stderr): Progress {
  const tty = Boolean(out.isTTY);
  let lastDraw = 0;
  let lastStep = -1;
  return {
    update(done, total) {
      if (tty) {
        const now = Date.now();
        if (now - lastDraw < 100 && (total === null || done < total)) return;
        lastDraw = now;
        if (total) {
          const ratio = Math.min(1, done / total);
          const width = Math.max(10, Math.min(40, (out.columns ?? 80) - label.length - 30));
          const filled = Math.round(ratio * width);
          const bar = `${'#'.repeat(filled)}${'.'.repeat(width - filled)}`;
          out.write(
            `\r${label} [${bar}] ${String(Math.floor(ratio * 100)).padStart(3)}% ${mb(done)}/${mb(total)}`,
          );
        } else {
          out.write(`\r${label} ${mb(done)}`);
        }
        return;
      }
      const step = total ? Math.floor((done / total) * 10) : Math.floor(done / (10 * MB));
      if (step === lastStep) return;
      lastStep = step;
      out.write(
        total ? `${label}: ${step * 10}% (${mb(done)} of ${mb(total)})\n` : `${label}: ${mb(done)}\n`,
      );
    },
    finish(message) {
      out.write(tty ? `\r\x1b[K${label}: ${message}\n` : `${label}: ${message}\n`);
    },
  };
}

/** For library use and tests that do not want output. */
export const silentProgress = (): Progress => ({ update() {}, finish() {} });
