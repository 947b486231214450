/**
 * Progress display: a cli-progress bar (step, loss, lr, tokens/s, ETA) on a terminal, a plain
 * log line every `logInterval` steps otherwise (CI logs, pipes, files).
 */
import cliProgress from 'cli-progress';
import type { Log } from '../io.js';

/** What each update shows. */
export interface ProgressValues {
  step: number;
  loss: number;
  lr: number;
  tokensPerSecond: number;
}

/** Formats seconds as `1h02m`, `3m05s` or `12s`. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.max(0, Math.round(seconds));
  if (s >= 3600)
    return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  if (s >= 60) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${s}s`;
}

/** Shows training progress; `stop()` before printing anything else to a terminal. */
export interface Progress {
  update(values: ProgressValues): void;
  /** Prints a message without breaking the bar. */
  log(message: string): void;
  stop(): void;
}

/** A bar on a TTY (`stream.isTTY`), log lines every `logInterval` steps otherwise. */
export function createProgress(options: {
  totalSteps: number;
  startStep: number;
  logInterval: number;
  log: Log;
  stream?: NodeJS.WriteStream;
}): Progress {
  const stream = options.stream ?? process.stderr;
  const { totalSteps, log } = options;
  const started = performance.now();
  const eta = (step: number): number => {
    const done = step - options.startStep;
    if (done <= 0) return Infinity;
    return ((performance.now() - started) / 1000 / done) * (totalSteps - step);
  };
  if (stream.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        stream,
        format: '{bar} step {value}/{total} | loss {loss} | lr {lr} | {tps} tok/s | ETA {etaText}',
        barsize: 24,
        hideCursor: true,
        clearOnComplete: false,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(totalSteps, options.startStep, { loss: '-', lr: '-', tps: '-', etaText: '?' });
    return {
      update: (v) =>
        bar.update(v.step, {
          loss: v.loss.toFixed(4),
          lr: v.lr.toExponential(2),
          tps: v.tokensPerSecond.toFixed(0),
          etaText: formatDuration(eta(v.step)),
        }),
      log: (m) => {
        // Clear the bar's line, print, and let the next update redraw it.
        stream.write('\r\x1b[K');
        log.info(m);
      },
      stop: () => bar.stop(),
    };
  }
  return {
    update: (v) => {
      if (v.step % options.logInterval !== 0 && v.step !== totalSteps) return;
      log.info(
        `step ${v.step}/${totalSteps} | loss ${v.loss.toFixed(4)} | lr ${v.lr.toExponential(2)} | ${v.tokensPerSecond.toFixed(0)} tok/s | ETA ${formatDuration(eta(v.step))}`,
      );
    },
    log: (m) => log.info(m),
    stop: () => {},
  };
}
