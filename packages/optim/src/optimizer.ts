/**
 * The optimizer base: parameter groups with per-group hyper-parameters, lazily
 * created per-parameter state, hooks that adjust groups before a step, and a
 * state dict of tensors plus JSON that resumes bit-for-bit.
 */
import { type Tensor, contiguous, keep, zerosLike } from '@fathom/tensor-core';
import { registerOptimKernels } from './kernels/register.js';
import {
  DEFAULT_NO_DECAY,
  type NoDecayRule,
  type ParamsInput,
  resolveGroups,
} from './param-groups.js';
import {
  STATE_FORMAT,
  copyTensor,
  importStateTensor,
  shapeText,
  stateKey,
  type JsonValue,
  type OptimizerMeta,
  type OptimizerStateDict,
  type OptimizerStateInput,
} from './state-dict.js';
import { checkNumber } from './validate.js';

/** Hyper-parameters every optimizer has. Subclasses add their own (all JSON values). */
export interface HyperParams {
  /** Learning rate; schedules set it each step. */
  lr: number;
  /** Weight decay (decoupled for AdamW, L2 added to the gradient for Sgd). */
  weightDecay: number;
}

/** One parameter group: its tensors, their names and its current hyper-parameters (mutable). */
export type ParamGroup<H extends HyperParams = HyperParams> = H & {
  /** `decay`/`no_decay` for named parameters split by the rule, else the spec's name or `group.<i>`. */
  readonly name: string;
  readonly params: readonly Tensor[];
  /** Names of `params`, in the same order (state dict keys use them). */
  readonly paramNames: readonly string[];
  /** The lr the group was created with: the base that schedules scale. */
  initialLr: number;
};

/** What a {@link StepHook} sees before a step. */
export interface StepContext {
  /** The optimizer's groups; hooks may change their hyper-parameters. */
  readonly groups: readonly ParamGroup[];
  /** The number of the step about to run (1 for the first). */
  readonly step: number;
  /** The global gradient norm when the caller passed one to `step()` (e.g. `clipGradNorm`'s result). */
  readonly gradNorm: Tensor | undefined;
}

/** Adjusts group hyper-parameters before each update (see `GradNormWeightDecay`). */
export interface StepHook {
  /** Runs before the update of every step; may change `context.groups`' hyper-parameters. */
  beforeStep(context: StepContext): void | Promise<void>;
}

/** Options every optimizer takes besides hyper-parameters. */
export interface OptimizerOptions {
  /**
   * For `[name, Tensor]` pairs only: parameters whose name matches get weight decay 0
   * (a `no_decay` group). Defaults to {@link DEFAULT_NO_DECAY}; `null` decays everything.
   */
  noDecay?: NoDecayRule;
  /** Hooks run, in order, at the start of every `step()`. */
  hooks?: readonly StepHook[];
}

/** Options of {@link Optimizer.step}. */
export interface StepOptions {
  /** A global gradient norm already on the device, handed to hooks so they need not compute one. */
  gradNorm?: Tensor;
}

/** Per-parameter state: its own step count and named f32 tensors shaped like the parameter. */
export interface ParamState {
  /** Updates this parameter has received. */
  step: number;
  /** State tensors by name (`exp_avg`, `momentum_buffer`, …). */
  readonly tensors: Map<string, Tensor>;
}

/**
 * Base class of {@link AdamW} and {@link Sgd}. Subclasses name their state
 * tensors and run one fused kernel per parameter in `update`.
 */
export abstract class Optimizer<H extends HyperParams> {
  /** Parameter groups in order; change hyper-parameters here (schedules set `lr`). */
  readonly paramGroups: ParamGroup<H>[];
  /** Hooks run at the start of every step. */
  readonly hooks: StepHook[];
  private readonly states = new Map<Tensor, ParamState>();
  private steps = 0;

  /**
   * @param kind - Name used in messages and state dicts.
   * @param params - Tensors, `[name, Tensor]` pairs, or groups with overrides.
   * @param defaults - Hyper-parameters of groups that do not override them.
   */
  protected constructor(
    readonly kind: string,
    params: ParamsInput<H>,
    defaults: H,
    options: OptimizerOptions,
  ) {
    registerOptimKernels();
    const rule = options.noDecay === undefined ? DEFAULT_NO_DECAY : options.noDecay;
    this.validate(defaults, 'options');
    this.paramGroups = resolveGroups<H>(kind, params, rule).map((g) => {
      const group = {
        ...defaults,
        ...g.overrides,
        name: g.name,
        params: g.params,
        paramNames: g.names,
      } as unknown as ParamGroup<H>;
      group.initialLr = group.lr;
      this.validate(group, `group '${g.name}'`);
      g.params.forEach((p, i) => this.checkParam(p, g.names[i]!));
      return group;
    });
    this.hooks = [...(options.hooks ?? [])];
  }

  /** Throws when a hyper-parameter is out of range; `where` names the group. */
  protected abstract validate(hyper: H, where: string): void;

  /** Names of the state tensors a parameter of `group` needs. */
  protected abstract stateNames(group: ParamGroup<H>): readonly string[];

  /** Updates one parameter in place from its gradient (contiguous f32) and state. */
  protected abstract update(
    param: Tensor,
    grad: Tensor,
    state: ParamState,
    group: ParamGroup<H>,
  ): void;

  /** Keys of the hyper-parameters stored in a state dict. */
  protected abstract hyperKeys(): readonly string[];

  /** Completed `step()` calls. */
  get stepCount(): number {
    return this.steps;
  }

  /** Every parameter, group by group. */
  params(): Tensor[] {
    return this.paramGroups.flatMap((g) => [...g.params]);
  }

  /** The state of a parameter (undefined before its first update). */
  stateOf(param: Tensor): Readonly<ParamState> | undefined {
    return this.states.get(param);
  }

  /**
   * Runs the hooks, then updates every parameter that has a gradient with one
   * fused kernel each. Without hooks the work is encoded before this returns;
   * await it anyway, since a hook may read a value from the device.
   */
  async step(options: StepOptions = {}): Promise<void> {
    const context: StepContext = {
      groups: this.paramGroups as unknown as readonly ParamGroup[],
      step: this.steps + 1,
      gradNorm: options.gradNorm,
    };
    for (const hook of this.hooks) await hook.beforeStep(context);
    for (const group of this.paramGroups) {
      this.validate(group, `group '${group.name}'`);
      group.params.forEach((param, i) => {
        const grad = param.grad;
        if (!grad) return;
        this.checkGrad(param, grad, group.paramNames[i]!);
        const src = grad.isContiguous ? grad : contiguous(grad);
        try {
          const state = this.stateFor(param, group);
          state.step += 1;
          this.update(param, src, state, group);
        } finally {
          if (src !== grad) src.dispose();
        }
      });
    }
    this.steps += 1;
  }

  /** Drops every parameter's gradient (PyTorch's `zero_grad(set_to_none=True)`). */
  zeroGrad(): void {
    for (const p of this.params()) p.setGrad(null);
  }

  /**
   * Snapshot of the state: copies of every state tensor (owned by the caller:
   * dispose them, or call inside `scope`) and JSON metadata with step counts
   * and hyper-parameters. Read the copies with `await t.toArray()` for host arrays.
   */
  stateDict(): OptimizerStateDict {
    const tensors: Record<string, Tensor> = {};
    const state: OptimizerMeta['state'] = {};
    for (const group of this.paramGroups) {
      group.params.forEach((p, i) => {
        const s = this.states.get(p);
        if (!s) return;
        const name = group.paramNames[i]!;
        state[name] = { step: s.step };
        for (const [key, t] of s.tensors) tensors[stateKey(name, key)] = copyTensor(t);
      });
    }
    return {
      tensors,
      meta: {
        format: STATE_FORMAT,
        kind: this.kind,
        steps: this.steps,
        groups: this.paramGroups.map((g) => ({
          name: g.name,
          params: [...g.paramNames],
          initialLr: g.initialLr,
          hyper: Object.fromEntries(
            this.hyperKeys().map((k) => [k, structuredClone(g[k as keyof H]) as JsonValue]),
          ),
        })),
        state,
      },
    };
  }

  /**
   * Restores a state dict from {@link stateDict} (or one read back from a file):
   * hyper-parameters, step counts and state tensors, so that training continues
   * bit-for-bit. Everything is checked before anything changes.
   */
  async loadStateDict(input: OptimizerStateInput): Promise<void> {
    const op = `${this.kind}.loadStateDict`;
    const meta = input.meta;
    if (meta?.format !== STATE_FORMAT)
      throw new Error(`${op}: meta.format is ${String(meta?.format)}; expected '${STATE_FORMAT}'`);
    if (meta.kind !== this.kind)
      throw new Error(`${op}: the state dict is from ${meta.kind}; expected ${this.kind}`);
    checkNumber(op, 'meta.steps', meta.steps, { min: 0, integer: true });
    if (meta.groups.length !== this.paramGroups.length)
      throw new Error(
        `${op}: the state dict has ${meta.groups.length} groups; this optimizer has ${this.paramGroups.length}`,
      );
    const hypers = this.paramGroups.map((group, gi) => {
      const saved = meta.groups[gi]!;
      const same =
        saved.params.length === group.paramNames.length &&
        saved.params.every((n, i) => n === group.paramNames[i]);
      if (!same)
        throw new Error(
          `${op}: group ${gi} holds [${saved.params.join(', ')}] in the state dict; this optimizer's group '${group.name}' holds [${group.paramNames.join(', ')}]`,
        );
      const hyper = { ...group, ...saved.hyper } as ParamGroup<H>;
      this.validate(hyper, `meta.groups[${gi}].hyper`);
      checkNumber(op, `meta.groups[${gi}].initialLr`, saved.initialLr, { min: 0 });
      return { hyper, initialLr: saved.initialLr };
    });
    const fresh = new Map<Tensor, ParamState>();
    try {
      for (const [gi, group] of this.paramGroups.entries()) {
        for (const [i, param] of group.params.entries()) {
          const name = group.paramNames[i]!;
          const saved = meta.state[name];
          if (!saved) continue;
          const step = checkNumber(op, `meta.state['${name}'].step`, saved.step, {
            min: 0,
            integer: true,
          });
          const tensors = new Map<string, Tensor>();
          fresh.set(param, { step, tensors });
          for (const key of this.stateNames(hypers[gi]!.hyper)) {
            const k = stateKey(name, key);
            const value = input.tensors[k];
            if (value === undefined)
              throw new Error(`${op}: tensors['${k}'] is missing; parameter '${name}' has state`);
            tensors.set(key, await importStateTensor(op, k, value, param));
          }
        }
      }
    } catch (error) {
      for (const s of fresh.values()) for (const t of s.tensors.values()) t.dispose();
      throw error;
    }
    this.disposeState();
    for (const [p, s] of fresh) this.states.set(p, s);
    this.paramGroups.forEach((group, gi) => {
      const { hyper, initialLr } = hypers[gi]!;
      for (const k of this.hyperKeys() as (keyof H)[]) (group as H)[k] = hyper[k];
      group.initialLr = initialLr;
    });
    this.steps = meta.steps;
  }

  /** Frees every state tensor. The optimizer starts from fresh state if stepped again. */
  dispose(): void {
    this.disposeState();
  }

  private disposeState(): void {
    for (const s of this.states.values()) for (const t of s.tensors.values()) t.dispose();
    this.states.clear();
  }

  private stateFor(param: Tensor, group: ParamGroup<H>): ParamState {
    let state = this.states.get(param);
    if (!state) {
      state = { step: 0, tensors: new Map() };
      this.states.set(param, state);
    }
    for (const name of this.stateNames(group)) {
      // keep(): state outlives any scope() the first step happens to run in.
      if (!state.tensors.has(name)) state.tensors.set(name, keep(zerosLike(param)));
    }
    return state;
  }

  private checkParam(param: Tensor, name: string): void {
    if (param.dtype !== 'f32')
      throw new TypeError(
        `${this.kind}: parameter '${name}' has dtype ${param.dtype}; expected f32 (16-bit parameters are not supported: keep f32 master weights and cast copies for compute)`,
      );
    if (!param.isLeaf)
      throw new Error(
        `${this.kind}: parameter '${name}' was produced by an op; expected a leaf tensor`,
      );
  }

  private checkGrad(param: Tensor, grad: Tensor, name: string): void {
    param.assertLive(`${this.kind}.step`, `parameter '${name}'`);
    const same =
      grad.shape.length === param.shape.length && grad.shape.every((d, i) => d === param.shape[i]);
    if (!same)
      throw new RangeError(
        `${this.kind}.step: the gradient of '${name}' has shape ${shapeText(grad.shape)}; expected the parameter's ${shapeText(param.shape)}`,
      );
    if (grad.dtype !== 'f32')
      throw new TypeError(
        `${this.kind}.step: the gradient of '${name}' has dtype ${grad.dtype}; expected f32`,
      );
  }
}
