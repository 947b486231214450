/**
 * The frozen teacher: a `CausalLm` with every parameter's `requiresGrad` off, in eval mode
 * (no dropout, no LayerDrop), run under `noGrad` so it records no graph and receives no
 * gradient. {@link loadTeacher} builds one from a Hugging Face folder such as the trainer's
 * `<run>/final/` (`config.json` + `model.safetensors`).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CausalLm, fromHfConfig, loadSafetensors } from '@fathom/nn-layers';
import { type Device, type Tensor, byteSize, noGrad } from '@fathom/tensor-core';
import { type CaptureRequest, type Captured, captureForward } from './capture.js';

/** See the module comment. */
export class FrozenTeacher {
  /** Bytes held by the teacher's distinct parameters (counted once when tied). */
  readonly parameterBytes: number;
  /**
   * Device bytes the teacher occupies (parameters plus buffers such as RoPE tables), measured
   * by {@link loadTeacher} as the growth of `device.memory().liveBytes`; null when the model
   * was built elsewhere ({@link freezeTeacher}).
   */
  residentBytes: number | null = null;

  /** Freezes `model` (all parameters, gradients cleared) and puts it in eval mode. */
  constructor(readonly model: CausalLm) {
    model.freeze();
    model.eval();
    this.parameterBytes = model.parameters().reduce((n, p) => n + p.size * byteSize(p.dtype), 0);
  }

  /** Number of transformer layers. */
  get numLayers(): number {
    return this.model.config.numLayers;
  }

  /**
   * The teacher's logits and requested intermediates for `ids` (i32 `[B, T]`), computed
   * without autograd. The caller owns (and disposes) every returned tensor.
   */
  forward(ids: Tensor, request: CaptureRequest = {}): Captured {
    // Something may have flipped the model back to training (e.g. a whole-tree train()).
    if (this.model.training) this.model.eval();
    return noGrad(() => captureForward(this.model, ids, request));
  }

  /** Frees the teacher's parameters. */
  dispose(): void {
    this.model.dispose();
  }
}

/** Wraps an in-memory model as a {@link FrozenTeacher}. */
export function freezeTeacher(model: CausalLm): FrozenTeacher {
  return new FrozenTeacher(model);
}

/** Names of the files {@link loadTeacher} reads. */
export const TEACHER_FILES = { config: 'config.json', model: 'model.safetensors' } as const;

/**
 * Loads a teacher from `dir` in Hugging Face's layout: `config.json` (read with nn-layers'
 * `fromHfConfig`) and `model.safetensors` (every tensor of the model's state dict, strict).
 */
export async function loadTeacher(dir: string, device: Device): Promise<FrozenTeacher> {
  const configPath = join(dir, TEACHER_FILES.config);
  let text: string;
  try {
    text = await readFile(configPath, 'utf8');
  } catch (error) {
    throw new Error(
      `loadTeacher: cannot read ${configPath} (${(error as Error).message}); expected a Hugging Face model folder such as the trainer's <run>/final/`,
      { cause: error },
    );
  }
  let hf: Record<string, unknown>;
  try {
    hf = JSON.parse(text) as Record<string, unknown>;
  } catch (error) {
    throw new Error(`loadTeacher: ${configPath} is not valid JSON (${(error as Error).message})`, {
      cause: error,
    });
  }
  const before = device.memory().liveBytes;
  const model = new CausalLm(fromHfConfig(hf), { device });
  try {
    const { tensors } = await loadSafetensors(join(dir, TEACHER_FILES.model), device);
    try {
      model.loadStateDict(tensors);
    } finally {
      for (const t of tensors.values()) t.dispose();
    }
  } catch (error) {
    model.dispose();
    throw new Error(`loadTeacher: ${dir}: ${(error as Error).message}`, { cause: error });
  }
  const teacher = new FrozenTeacher(model);
  teacher.residentBytes = device.memory().liveBytes - before;
  return teacher;
}
