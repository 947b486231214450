/**
 * SIGINT/SIGTERM during training: the first asks the loop to save a checkpoint after the
 * current step and exit; a second one exits at once (checkpoint writes are atomic, so the
 * previous checkpoint stays usable).
 */

/** The exit status after an interrupt: 128 + the signal's number. */
export const SIGNAL_EXIT_CODES = { SIGINT: 130, SIGTERM: 143 } as const;

/** A stop request raised by a signal. */
export interface StopSignal {
  /** The signal received, or null. */
  readonly received: 'SIGINT' | 'SIGTERM' | null;
  /** Removes the handlers. */
  dispose(): void;
}

/** Installs the handlers; `onFirst` is told when the first signal arrives. */
export function watchSignals(onFirst: (signal: 'SIGINT' | 'SIGTERM') => void): StopSignal {
  const state: { received: 'SIGINT' | 'SIGTERM' | null } = { received: null };
  const handler = (signal: 'SIGINT' | 'SIGTERM') => {
    if (state.received) {
      process.stderr.write(`\n${signal} again: exiting now without a new checkpoint\n`);
      process.exit(SIGNAL_EXIT_CODES[signal]);
    }
    state.received = signal;
    onFirst(signal);
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return {
    get received() {
      return state.received;
    },
    dispose() {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    },
  };
}
