/**
 * TEST-ONLY hook: with `FATHOM_TRAIN_TEST_CHECKPOINT_PAUSE_MS` set, checkpoint writing prints
 * `[test-hook] <checkpoint> wrote <file>` to stderr after each file and then pauses that many
 * milliseconds, so a test can kill the process at a known point of a write. Never set it
 * outside tests: it slows every checkpoint down.
 */
export const CHECKPOINT_PAUSE_ENV = 'FATHOM_TRAIN_TEST_CHECKPOINT_PAUSE_MS';

/** Runs the hook after `file` of `checkpoint` was written (a no-op unless the variable is set). */
export async function afterCheckpointFile(checkpoint: string, file: string): Promise<void> {
  const raw = process.env[CHECKPOINT_PAUSE_ENV];
  if (raw === undefined || raw === '') return;
  const ms = Number(raw);
  if (!Number.isFinite(ms) || ms < 0)
    throw new RangeError(`${CHECKPOINT_PAUSE_ENV} is '${raw}'; expected milliseconds >= 0`);
  process.stderr.write(`[test-hook] ${checkpoint} wrote ${file}\n`);
  await new Promise((r) => setTimeout(r, ms));
}
