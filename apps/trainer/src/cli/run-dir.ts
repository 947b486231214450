/** Default run folder names. */
import { resolve } from 'node:path';

/** `runs/<name>-<YYYYMMDD-HHMMSS>` under `cwd`. */
export function defaultRunDir(name: string, cwd = process.cwd(), now = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  const stamp = `${now.getFullYear()}${p(now.getMonth() + 1)}${p(now.getDate())}-${p(now.getHours())}${p(now.getMinutes())}${p(now.getSeconds())}`;
  return resolve(cwd, 'runs', `${name}-${stamp}`);
}
