/**
 * Finding and verifying checkpoints. A checkpoint is usable when its manifest parses and every
 * file it lists has the recorded size and SHA-256; otherwise the reader says why and falls
 * back to the next older one.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type SafetensorsContents, parseSafetensors } from '@fathom/nn-layers';
import type { Log } from '../io.js';
import {
  CHECKPOINT_FILES,
  CHECKPOINT_FORMAT,
  type CheckpointManifest,
  type TrainerState,
  stepOfName,
} from './format.js';

/** A verified checkpoint, parsed. */
export interface LoadedCheckpoint {
  /** Its folder. */
  dir: string;
  step: number;
  model: SafetensorsContents;
  optimizer: SafetensorsContents;
  /** Precision's f32 master weights (absent in checkpoints older than mixed precision). */
  precision: SafetensorsContents | undefined;
  /** The distillation projections' weights (distillation runs whose widths differ only). */
  distill: SafetensorsContents | undefined;
  state: TrainerState;
  /** The run config saved with it (validated by the caller). */
  config: unknown;
}

/** A checkpoint that failed verification. */
export class CorruptCheckpointError extends Error {
  constructor(
    readonly dir: string,
    reason: string,
  ) {
    super(`checkpoint ${dir} is unusable: ${reason}`);
    this.name = 'CorruptCheckpointError';
  }
}

/** Checkpoint folders under `checkpointsDir`, newest first (stale `.tmp-*` folders are not listed). */
export async function listCheckpoints(
  checkpointsDir: string,
): Promise<{ name: string; step: number }[]> {
  let names: string[];
  try {
    names = await readdir(checkpointsDir);
  } catch {
    return [];
  }
  return names
    .map((name) => ({ name, step: stepOfName(name) }))
    .filter((c): c is { name: string; step: number } => c.step !== undefined)
    .sort((a, b) => b.step - a.step);
}

/** Reads and verifies one checkpoint folder. @throws {@link CorruptCheckpointError} */
export async function readCheckpoint(dir: string): Promise<LoadedCheckpoint> {
  const fail = (reason: string): never => {
    throw new CorruptCheckpointError(dir, reason);
  };
  let manifest: CheckpointManifest;
  try {
    manifest = JSON.parse(
      await readFile(join(dir, CHECKPOINT_FILES.manifest), 'utf8'),
    ) as CheckpointManifest;
  } catch (error) {
    return fail(
      `${CHECKPOINT_FILES.manifest} is missing or not JSON (${(error as Error).message})`,
    );
  }
  if (manifest.format !== CHECKPOINT_FORMAT)
    fail(
      `${CHECKPOINT_FILES.manifest} has format ${JSON.stringify(manifest.format)}; expected '${CHECKPOINT_FORMAT}'`,
    );
  const bytes = new Map<string, Uint8Array>();
  for (const f of manifest.files ?? []) {
    let data: Buffer;
    try {
      data = await readFile(join(dir, f.name));
    } catch {
      return fail(`${f.name} is missing`);
    }
    if (data.byteLength !== f.bytes)
      fail(`${f.name} has ${data.byteLength} bytes; the manifest records ${f.bytes} (truncated?)`);
    const sum = createHash('sha256').update(data).digest('hex');
    if (sum !== f.sha256)
      fail(
        `${f.name} has SHA-256 ${sum.slice(0, 12)}…; the manifest records ${f.sha256.slice(0, 12)}… (corrupted)`,
      );
    bytes.set(f.name, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  }
  for (const name of [
    CHECKPOINT_FILES.model,
    CHECKPOINT_FILES.optimizer,
    CHECKPOINT_FILES.state,
    CHECKPOINT_FILES.config,
  ])
    if (!bytes.has(name)) fail(`the manifest does not list ${name}`);
  const text = (name: string) => new TextDecoder().decode(bytes.get(name)!);
  const state = JSON.parse(text(CHECKPOINT_FILES.state)) as TrainerState;
  if (state.format !== CHECKPOINT_FORMAT || state.step !== manifest.step)
    fail(
      `${CHECKPOINT_FILES.state} has format ${JSON.stringify(state.format)} and step ${state.step}; expected '${CHECKPOINT_FORMAT}' and step ${manifest.step}`,
    );
  if (state.precision !== undefined && !bytes.has(CHECKPOINT_FILES.precision))
    fail(`the manifest does not list ${CHECKPOINT_FILES.precision}, which precision state needs`);
  const precision = bytes.get(CHECKPOINT_FILES.precision);
  const distill = bytes.get(CHECKPOINT_FILES.distill);
  return {
    dir,
    step: manifest.step,
    model: parseSafetensors(bytes.get(CHECKPOINT_FILES.model)!),
    optimizer: parseSafetensors(bytes.get(CHECKPOINT_FILES.optimizer)!),
    precision: precision ? parseSafetensors(precision) : undefined,
    distill: distill ? parseSafetensors(distill) : undefined,
    state,
    config: JSON.parse(text(CHECKPOINT_FILES.config)) as unknown,
  };
}

/**
 * The newest checkpoint that verifies, warning about each newer one that does not
 * (and which one it falls back to). Undefined when there is none.
 */
export async function latestValidCheckpoint(
  checkpointsDir: string,
  log: Log,
): Promise<LoadedCheckpoint | undefined> {
  const all = await listCheckpoints(checkpointsDir);
  for (const [i, c] of all.entries()) {
    try {
      return await readCheckpoint(join(checkpointsDir, c.name));
    } catch (error) {
      if (!(error instanceof CorruptCheckpointError)) throw error;
      const next = all[i + 1];
      log.warn(
        `warning: ${error.message}; ${next ? `falling back to ${next.name}` : 'no older checkpoint to fall back to'}`,
      );
    }
  }
  return undefined;
}
