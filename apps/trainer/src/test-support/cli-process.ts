/** Runs the CLI from source in a child process (`node --import tsx src/cli/main.ts`). */
import { type ChildProcess, spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The app folder (where `src/cli/main.ts` lives). */
export const APP_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** A running CLI process with its output collected. */
export interface CliProcess {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  /** Resolves when stdout or stderr contains a match. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<void>;
  /** Resolves with the exit code (or the signal's name). */
  exited: Promise<number | string>;
}

/** Spawns `fathom-train <args>` with extra environment variables. */
export function spawnCli(args: readonly string[], env: Record<string, string> = {}): CliProcess {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(APP_DIR, 'src', 'cli', 'main.ts'), ...args],
    {
      cwd: APP_DIR,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  let err = '';
  const waiters: { pattern: RegExp; done: () => void }[] = [];
  const check = () => {
    for (const w of [...waiters])
      if (w.pattern.test(out) || w.pattern.test(err)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.done();
      }
  };
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
    check();
  });
  child.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
    check();
  });
  const exited = new Promise<number | string>((done) =>
    child.on('exit', (code, signal) => done(code ?? signal ?? -1)),
  );
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitFor: (pattern, timeoutMs = 120_000) =>
      new Promise<void>((done, fail) => {
        const timer = setTimeout(
          () =>
            fail(new Error(`timed out waiting for ${pattern}\nstdout:\n${out}\nstderr:\n${err}`)),
          timeoutMs,
        );
        const entry = {
          pattern,
          done: () => {
            clearTimeout(timer);
            done();
          },
        };
        waiters.push(entry);
        void exited.then(() => {
          if (waiters.includes(entry)) {
            clearTimeout(timer);
            fail(
              new Error(`the process exited before ${pattern}\nstdout:\n${out}\nstderr:\n${err}`),
            );
          }
        });
        check();
      }),
  };
}
