/**
 * Writing a checkpoint atomically: every file goes into a temporary folder (each written with
 * temp + fsync + rename), the manifest with sizes and SHA-256 sums last, then the folder is
 * renamed into place and its parent synced. A crash leaves either the complete checkpoint or a
 * `.tmp-*` folder that readers ignore and the next run removes.
 */
import { createHash } from 'node:crypto';
import { mkdir, open, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '@fathom/nn-layers';
import {
  CHECKPOINT_FILES,
  CHECKPOINT_FORMAT,
  type CheckpointManifest,
  checkpointName,
  stepOfName,
} from './format.js';
import { afterCheckpointFile } from './test-hook.js';

/** The files of one checkpoint, as bytes, by name (see {@link CHECKPOINT_FILES}). */
export type CheckpointFiles = ReadonlyMap<string, Uint8Array | string>;

async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Writes `files` as the checkpoint of `step` under `checkpointsDir`, replacing one of the same
 * step. Returns the checkpoint's folder.
 */
export async function writeCheckpoint(
  checkpointsDir: string,
  step: number,
  files: CheckpointFiles,
): Promise<string> {
  const name = checkpointName(step);
  await mkdir(checkpointsDir, { recursive: true });
  const tmp = join(checkpointsDir, `.tmp-${name}-${process.pid}`);
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp);
  const manifest: CheckpointManifest = { format: CHECKPOINT_FORMAT, step, files: [] };
  for (const [file, data] of files) {
    const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
    await writeFileAtomic(join(tmp, file), bytes);
    manifest.files.push({
      name: file,
      bytes: bytes.byteLength,
      sha256: createHash('sha256').update(bytes).digest('hex'),
    });
    await afterCheckpointFile(name, file);
  }
  await writeFileAtomic(join(tmp, CHECKPOINT_FILES.manifest), JSON.stringify(manifest, null, 2));
  await afterCheckpointFile(name, CHECKPOINT_FILES.manifest);
  const final = join(checkpointsDir, name);
  // A checkpoint of the same step (a resumed run saving again) is replaced: move it aside first.
  const old = join(checkpointsDir, `.old-${name}-${process.pid}`);
  let replaced = false;
  try {
    await rename(final, old);
    replaced = true;
  } catch {
    // none there
  }
  await rename(tmp, final);
  await syncDir(checkpointsDir);
  if (replaced) await rm(old, { recursive: true, force: true });
  return final;
}

/** Deletes all but the newest `keep` checkpoints. Returns the names deleted. */
export async function pruneCheckpoints(checkpointsDir: string, keep: number): Promise<string[]> {
  const names = (await readdir(checkpointsDir))
    .filter((n) => stepOfName(n) !== undefined)
    .sort((a, b) => stepOfName(b)! - stepOfName(a)!);
  const doomed = names.slice(keep);
  for (const n of doomed) {
    // Rename first, so an interrupted delete never leaves a half-deleted step-* folder.
    const trash = join(checkpointsDir, `.trash-${n}-${process.pid}`);
    await rename(join(checkpointsDir, n), trash);
    await rm(trash, { recursive: true, force: true });
  }
  return doomed;
}

/** Removes leftovers of interrupted writes (`.tmp-*`, `.old-*`, `.trash-*`). Returns their names. */
export async function removeStaleCheckpointFiles(checkpointsDir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(checkpointsDir);
  } catch {
    return [];
  }
  const stale = names.filter((n) => /^\.(tmp|old|trash)-/.test(n));
  for (const n of stale) {
    // A checkpoint moved aside for a replacement that never landed goes back into place.
    const displaced = /^\.old-(step-\d+)-\d+$/.exec(n)?.[1];
    if (displaced && !names.includes(displaced)) {
      await rename(join(checkpointsDir, n), join(checkpointsDir, displaced));
      names.push(displaced);
      continue;
    }
    await rm(join(checkpointsDir, n), { recursive: true, force: true });
  }
  return stale;
}
