/**
 * Writing a quantised copy of a checkpoint directory: config.json and the tokenizer files
 * copied, model.safetensors re-written with `@fathom/quant`'s packed layout.
 */
import { copyFile, mkdir, readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import {
  type QuantScheme,
  type ResolvedScheme,
  quantizeModel,
  resolveScheme,
  saveQuantizedModel,
} from '@fathom/quant';
import { toHfConfig } from '@fathom/nn-layers';
import type { Device } from '@fathom/tensor-core';
import { CHECKPOINT_FILES, loadCheckpoint } from './load-checkpoint.js';

/** Scheme names the `quantize` command accepts. */
export const SCHEME_NAMES = ['int8', 'int4', 'mixed'] as const;

/**
 * The scheme of a scheme name: `int8` is symmetric per output channel; `int4` and `mixed` use
 * `groupSize` (32, 64 or 128) and `mixed` the default 70th variance percentile.
 *
 * @throws RangeError naming `--scheme` or `--group` when either is not supported.
 */
export function schemeFromName(name: string, groupSize = 32): ResolvedScheme {
  if (!(SCHEME_NAMES as readonly string[]).includes(name))
    throw new RangeError(`--scheme is ${JSON.stringify(name)}; expected int8, int4 or mixed`);
  const scheme: QuantScheme =
    name === 'int8'
      ? { kind: 'int8', granularity: 'channel' }
      : { kind: name as 'int4' | 'mixed', groupSize: groupSize as 32 };
  return resolveScheme(scheme, '--scheme');
}

/** Result of {@link quantizeCheckpoint}. */
export interface QuantizeCheckpointReport {
  /** Absolute path of the directory written. */
  out: string;
  scheme: ResolvedScheme;
  /** Paths of the quantised layers. */
  layers: string[];
  /** Bytes of the model's weights before and after (`modelBytes`). */
  bytesBefore: number;
  bytesAfter: number;
}

/**
 * Quantises the Linear layers of the checkpoint in `src` (the LM head stays float unless
 * `includeLmHead`) and writes a checkpoint directory to `out` that `loadCheckpoint` reads.
 *
 * @param src - a float checkpoint directory.
 * @param out - the directory to write (created if missing; must differ from `src`).
 * @param scheme - the quantisation scheme.
 * @param device - where the model is quantised.
 */
export async function quantizeCheckpoint(
  src: string,
  out: string,
  scheme: QuantScheme,
  device: Device,
  options: { includeLmHead?: boolean } = {},
): Promise<QuantizeCheckpointReport> {
  const from = resolve(src);
  const to = resolve(out);
  if (from === to)
    throw new Error(`--out is ${to}, the checkpoint itself; expected another directory`);
  const resolved = resolveScheme(scheme, 'scheme');
  const ck = await loadCheckpoint(from, device);
  try {
    if (ck.quantizedLayers !== undefined)
      throw new Error(`checkpoint ${from} is already quantised; expected a float checkpoint`);
    const report = await quantizeModel(ck.model, {
      scheme: resolved,
      includeLmHead: options.includeLmHead ?? false,
    });
    await mkdir(to, { recursive: true });
    const configText = JSON.stringify(toHfConfig(ck.config));
    await saveQuantizedModel(ck.model, join(to, CHECKPOINT_FILES.weights), { config: configText });
    for (const file of await readdir(from)) {
      if (file === CHECKPOINT_FILES.config || /^tokenizer.*\.json$/.test(file))
        await copyFile(join(from, file), join(to, file));
    }
    return {
      out: to,
      scheme: resolved,
      layers: report.layers,
      bytesBefore: report.bytesBefore,
      bytesAfter: report.bytesAfter,
    };
  } finally {
    ck.model.dispose();
  }
}
