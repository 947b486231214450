/** Where the trainer's messages go (the CLI prints them; tests collect them). */
export interface Log {
  /** Progress and results. */
  info(message: string): void;
  /** Something the user should notice (a skipped checkpoint, a fallback). */
  warn(message: string): void;
}

/** Messages to stdout and stderr. */
export const consoleLog: Log = {
  info: (m) => console.log(m),
  warn: (m) => console.error(m),
};

/** Discards every message. */
export const silentLog: Log = { info: () => {}, warn: () => {} };
