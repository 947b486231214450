/**
 * `MasterWeights`: f32 copies of a model's 16-bit trainable parameters. The
 * optimizer updates the copies; `syncToModel` writes them back into the
 * model's low-precision weights, rounding to nearest even or (bf16)
 * stochastically with tensor-core's Philox stream. Gradients are folded into
 * f32 master gradients after each backward, so accumulation over micro-batches
 * happens in f32 rather than in the parameters' 16-bit dtype.
 */
import {
  type Device,
  Generator,
  type GeneratorState,
  type Tensor,
  add,
  cast,
  emptyTensor,
  executeInPlace,
  keep,
  noGrad,
  randomBits,
} from '@fathom/tensor-core';
import { ROUND_INTO, registerRoundKernels } from './kernels/round-kernels.js';

/** How master weights are rounded into the model's 16-bit parameters. */
export type MasterRounding = 'nearest' | 'stochastic';

/** Options of {@link MasterWeights}. */
export interface MasterWeightsOptions {
  /** Default 'nearest'. 'stochastic' needs every mastered parameter to be bf16. */
  rounding?: MasterRounding;
  /** Seed of the stochastic-rounding stream (default 0). */
  seed?: number;
}

/** One parameter and the tensor the optimizer updates for it. */
export interface MasterEntry {
  readonly name: string;
  /** The model's parameter. */
  readonly param: Tensor;
  /** Its f32 master copy, or the parameter itself when it is already f32. */
  readonly master: Tensor;
  /** True when `master` is a copy this object owns. */
  readonly owned: boolean;
}

/** Format tag of {@link MasterWeightsMeta}. */
export const MASTER_WEIGHTS_FORMAT = 'fathom.master-weights/1';

/** JSON part of a master-weights state dict. */
export interface MasterWeightsMeta {
  format: typeof MASTER_WEIGHTS_FORMAT;
  rounding: MasterRounding;
  /** Names of the parameters that have an f32 copy (the tensors' keys). */
  names: string[];
  /** The stochastic-rounding stream (null with nearest rounding). */
  generator: GeneratorState | null;
}

/** A master-weights state dict: f32 copies by parameter name, and metadata. */
export interface MasterWeightsState {
  tensors: Record<string, Tensor>;
  meta: MasterWeightsMeta;
}

/** See the module comment. */
export class MasterWeights {
  readonly entries: readonly MasterEntry[];
  readonly rounding: MasterRounding;
  private readonly generator: Generator | null;

  /**
   * @param named - The model's parameters with their names (`model.namedParameters()`);
   *   only those that require grad are mastered.
   */
  constructor(named: readonly [string, Tensor][], options: MasterWeightsOptions = {}) {
    registerRoundKernels();
    const rounding = options.rounding ?? 'nearest';
    if (rounding !== 'nearest' && rounding !== 'stochastic')
      throw new TypeError(
        `MasterWeights: options.rounding is ${String(rounding)}; expected 'nearest' or 'stochastic'`,
      );
    this.rounding = rounding;
    const seed = options.seed ?? 0;
    this.generator = rounding === 'stochastic' ? new Generator(seed) : null;
    const entries: MasterEntry[] = [];
    for (const [name, param] of named) {
      if (!param.requiresGrad) continue;
      if (param.dtype === 'f32') {
        entries.push({ name, param, master: param, owned: false });
        continue;
      }
      if (param.dtype !== 'f16' && param.dtype !== 'bf16')
        throw new TypeError(
          `MasterWeights: parameter '${name}' has dtype ${param.dtype}; expected a float dtype`,
        );
      if (rounding === 'stochastic' && param.dtype !== 'bf16')
        throw new TypeError(
          `MasterWeights: stochastic rounding is for bf16 parameters; '${name}' is ${param.dtype}`,
        );
      if (!param.isContiguous || param.offset % 2 !== 0)
        throw new Error(`MasterWeights: parameter '${name}' must be contiguous storage of its own`);
      const master = keep(noGrad(() => cast(param, 'f32'))).requireGrad();
      entries.push({ name, param, master, owned: true });
    }
    this.entries = entries;
  }

  /** What the optimizer should update, with the parameters' names. */
  named(): [string, Tensor][] {
    return this.entries.map((e) => [e.name, e.master]);
  }

  /** Moves the model's 16-bit gradients into the f32 master gradients (adding to what is there). */
  foldGradients(): void {
    noGrad(() => {
      for (const e of this.entries) {
        if (!e.owned) continue;
        const g = e.param.grad;
        if (!g) continue;
        const up = cast(g, 'f32');
        const prev = e.master.grad;
        e.master.setGrad(prev ? add(prev, up) : up);
        if (prev) up.dispose();
        e.param.setGrad(null);
      }
    });
  }

  /** Writes the masters into the model's parameters (f32 parameters are the masters: nothing to do). */
  syncToModel(): void {
    for (const e of this.entries) {
      if (!e.owned) continue;
      if (this.generator) {
        const bits = randomBits([e.master.size], {
          generator: this.generator,
          device: e.master.device,
        });
        try {
          executeInPlace(ROUND_INTO, [e.master, bits], [e.param], { mode: 'stochastic' });
        } finally {
          bits.dispose();
        }
      } else {
        executeInPlace(ROUND_INTO, [e.master], [e.param], { mode: 'nearest' });
      }
    }
  }

  /** Drops the gradients of the masters and of the model's parameters. */
  zeroGrad(): void {
    for (const e of this.entries) {
      e.master.setGrad(null);
      e.param.setGrad(null);
    }
  }

  /** Copies of the f32 masters (owned by the caller) and the rounding stream's state. */
  stateDict(): MasterWeightsState {
    const tensors: Record<string, Tensor> = {};
    for (const e of this.entries) {
      if (!e.owned) continue;
      const copy = emptyTensor(e.master.device, e.master.shape, 'f32');
      executeInPlace('copy', [e.master], [copy], {});
      tensors[e.name] = copy;
    }
    return {
      tensors,
      meta: {
        format: MASTER_WEIGHTS_FORMAT,
        rounding: this.rounding,
        names: Object.keys(tensors),
        generator: this.generator?.state() ?? null,
      },
    };
  }

  /** Restores masters and the rounding stream from {@link stateDict}; the model's weights are not touched. */
  loadStateDict(state: MasterWeightsState): void {
    const op = 'MasterWeights.loadStateDict';
    const meta = state?.meta;
    if (meta?.format !== MASTER_WEIGHTS_FORMAT)
      throw new Error(
        `${op}: meta.format is ${String(meta?.format)}; expected '${MASTER_WEIGHTS_FORMAT}'`,
      );
    if (meta.rounding !== this.rounding)
      throw new Error(
        `${op}: the state uses ${meta.rounding} rounding; these master weights use ${this.rounding}`,
      );
    const owned = this.entries.filter((e) => e.owned);
    const want = owned.map((e) => e.name);
    if (meta.names.length !== want.length || meta.names.some((n, i) => n !== want[i]))
      throw new Error(
        `${op}: the state has masters [${meta.names.join(', ')}]; expected [${want.join(', ')}]`,
      );
    for (const e of owned) {
      const t = state.tensors[e.name];
      if (!t) throw new Error(`${op}: tensors['${e.name}'] is missing`);
      if (
        t.dtype !== 'f32' ||
        t.shape.length !== e.master.shape.length ||
        t.shape.some((d, i) => d !== e.master.shape[i])
      )
        throw new Error(
          `${op}: tensors['${e.name}'] is ${t.dtype} [${t.shape.join(',')}]; expected f32 [${e.master.shape.join(',')}]`,
        );
      if (t.device !== e.master.device)
        throw new Error(
          `${op}: tensors['${e.name}'] is on ${t.device.name}; expected ${e.master.device.name}`,
        );
    }
    if (this.generator) {
      if (!meta.generator)
        throw new Error(`${op}: meta.generator is missing; stochastic rounding needs it`);
      this.generator.setState(meta.generator);
    }
    for (const e of owned) executeInPlace('copy', [state.tensors[e.name]!], [e.master], {});
  }

  /** The device of the masters (of the first one). */
  get device(): Device | null {
    return this.entries[0]?.master.device ?? null;
  }

  /** Frees the f32 copies. */
  dispose(): void {
    for (const e of this.entries) if (e.owned) e.master.dispose();
  }
}
