import cliProgress from 'cli-progress';

export interface Progress {
  update(done: number, total?: number): void;
  stop(): void;
}

/**
 * A progress bar on a terminal; on a pipe or in CI, a line every 10% instead, so logs stay readable.
 * Written to stderr: stdout holds the summary.
 */
export function progress(label: string, total: number, unit = ''): Progress {
  if (process.stderr.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        format: `${label.padEnd(14)} [{bar}] {percentage}% | {value}/{total}${unit} | {eta_formatted} left`,
        stream: process.stderr,
        hideCursor: true,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(total, 0);
    return {
      update: (done, newTotal) => {
        if (newTotal !== undefined) bar.setTotal(newTotal);
        bar.update(done);
      },
      stop: () => bar.stop(),
    };
  }
  let nextTenth = 1;
  let max = total;
  return {
    update: (done, newTotal) => {
      if (newTotal !== undefined) max = newTotal;
      while (max > 0 && done / max >= nextTenth / 10 && nextTenth <= 10) {
        process.stderr.write(`${label}: ${nextTenth * 10}%\n`);
        nextTenth += 1;
      }
    },
    stop: () => undefined,
  };
}
