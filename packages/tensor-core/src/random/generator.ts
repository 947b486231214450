/**
 * A Philox generator is only a (seed, stream, offset) triple: each random op
 * reserves a range of 128-bit counters and the numbers are a pure function of
 * that range, so they do not depend on the backend, the dispatch shape, or what
 * other streams do. State is three 64-bit integers, saved as decimal strings so
 * that it survives JSON exactly.
 */
import type { PhiloxStart } from './philox.js';

const U64 = (1n << 64n) - 1n;

/** A generator's state as JSON-safe data (decimal strings of unsigned 64-bit integers). */
export interface GeneratorState {
  /** Always `'philox4x32-10'`: states of other algorithms are refused. */
  algorithm: 'philox4x32-10';
  /** The key. */
  seed: string;
  /** Counter words 2–3: independent streams under one seed (e.g. one per data-parallel rank). */
  stream: string;
  /** Counter words 0–1 of the next unused block. */
  offset: string;
}

/** Options of {@link Generator}. */
export interface GeneratorOptions {
  /** The stream id (default 0); see {@link GeneratorState.stream}. */
  stream?: number | bigint;
}

/** What {@link Generator.next} reserved: the seed, stream, and the first block's counter. */
export interface PhiloxReservation {
  seed: bigint;
  stream: bigint;
  offset: bigint;
}

function toU64(value: number | bigint, what: string): bigint {
  if (typeof value === 'bigint') {
    if (value < 0n || value > U64)
      throw new RangeError(`${what}: got ${value}; expected an integer in [0, 2^64)`);
    return value;
  }
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(
      `${what}: got ${String(value)}; expected a non-negative safe integer or a bigint below 2^64`,
    );
  }
  return BigInt(value);
}

function parseU64(value: unknown, what: string): bigint {
  if (typeof value !== 'string' || !/^[0-9]+$/.test(value))
    throw new TypeError(`${what}: got ${JSON.stringify(value)}; expected a decimal string`);
  return toU64(BigInt(value), what);
}

/** Low and high u32 words of a 64-bit value. */
export function words64(value: bigint): [number, number] {
  return [Number(value & 0xffffffffn), Number((value >> 32n) & 0xffffffffn)];
}

/** The key and first counter of a reservation, as the u32 words kernels take. */
export function philoxStart(r: PhiloxReservation): PhiloxStart {
  const [s0, s1] = words64(r.stream);
  const [o0, o1] = words64(r.offset);
  return { key: words64(r.seed), counter: [o0, o1, s0, s1] };
}

/**
 * A counter-based random generator (Philox4x32-10). `new Generator(seed)` starts at
 * offset 0; each random op calls {@link Generator.next} for the counters it uses.
 */
export class Generator {
  private seedValue: bigint;
  private streamValue: bigint;
  private offsetValue = 0n;

  /** `seed`: a non-negative safe integer or a bigint below 2^64. */
  constructor(seed: number | bigint = 0, options: GeneratorOptions = {}) {
    this.seedValue = toU64(seed, 'Generator: seed');
    this.streamValue = toU64(options.stream ?? 0, 'Generator: options.stream');
  }

  /** The key. */
  get seed(): bigint {
    return this.seedValue;
  }

  /** The stream id (counter words 2–3). */
  get stream(): bigint {
    return this.streamValue;
  }

  /** Counter of the next unused block (advances by ceil(n/4) per op of n elements). */
  get offset(): bigint {
    return this.offsetValue;
  }

  /** Restarts with a new seed at offset 0 (the stream is kept). Returns this. */
  manualSeed(seed: number | bigint): this {
    this.seedValue = toU64(seed, 'manualSeed: seed');
    this.offsetValue = 0n;
    return this;
  }

  /** The state, as data `JSON.stringify` keeps exactly. */
  state(): GeneratorState {
    return {
      algorithm: 'philox4x32-10',
      seed: this.seedValue.toString(),
      stream: this.streamValue.toString(),
      offset: this.offsetValue.toString(),
    };
  }

  /** Restores a state from {@link Generator.state} (possibly through JSON). Returns this. */
  setState(state: GeneratorState): this {
    if (typeof state !== 'object' || state === null)
      throw new TypeError(`setState: got ${String(state)}; expected a GeneratorState object`);
    if (state.algorithm !== 'philox4x32-10') {
      throw new TypeError(
        `setState: state.algorithm is ${JSON.stringify(state.algorithm)}; expected 'philox4x32-10'`,
      );
    }
    const seed = parseU64(state.seed, 'setState: state.seed');
    const stream = parseU64(state.stream, 'setState: state.stream');
    const offset = parseU64(state.offset, 'setState: state.offset');
    this.seedValue = seed;
    this.streamValue = stream;
    this.offsetValue = offset;
    return this;
  }

  /** A generator with a copy of this one's state (the two then advance independently). */
  clone(): Generator {
    return new Generator(0).setState(this.state());
  }

  /**
   * Reserves the blocks for `n` values (ceil(n/4) counters) and returns where they
   * start. The offset wraps modulo 2^64.
   */
  next(n: number): PhiloxReservation {
    if (!Number.isSafeInteger(n) || n < 0)
      throw new RangeError(`Generator.next: n is ${n}; expected a non-negative integer`);
    const r = { seed: this.seedValue, stream: this.streamValue, offset: this.offsetValue };
    this.offsetValue = (this.offsetValue + BigInt(Math.ceil(n / 4))) & U64;
    return r;
  }
}

/** The seed the default generator starts with, so that programs are reproducible unless reseeded. */
export const DEFAULT_SEED = 0x5eed;

const globalGenerator = new Generator(DEFAULT_SEED);

/** The generator random ops use when none is passed. */
export function defaultGenerator(): Generator {
  return globalGenerator;
}

/** Reseeds the default generator (offset back to 0). Returns it. */
export function manualSeed(seed: number | bigint): Generator {
  return globalGenerator.manualSeed(seed);
}
