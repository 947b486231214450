/**
 * Philox4x32-10, the counter-based generator of Salmon, Moraes, Dror and Shaw,
 * "Parallel random numbers: as easy as 1, 2, 3" (SC'11), as in Random123.
 * A block is a pure function of a 128-bit counter and a 64-bit key, so any
 * element of a stream can be computed independently (and identically) on every
 * backend. The WGSL twin lives in `backends/webgpu/wgsl-philox.ts`.
 */

/** Round multipliers (Random123's PHILOX_M4x32_0 and PHILOX_M4x32_1). */
export const PHILOX_M0 = 0xd2511f53;
/** See {@link PHILOX_M0}. */
export const PHILOX_M1 = 0xcd9e8d57;
/** Weyl-sequence key increments (golden ratio and √3 − 1, as 32-bit fractions). */
export const PHILOX_W0 = 0x9e3779b9;
/** See {@link PHILOX_W0}. */
export const PHILOX_W1 = 0xbb67ae85;
/** Rounds of the standard Philox4x32-10. */
export const PHILOX_ROUNDS = 10;

/**
 * High 32 bits of the exact 64-bit product of two u32 values. JavaScript doubles
 * hold only 53 bits, so the product is assembled from 16-bit halves (each partial
 * product is below 2^32 and therefore exact).
 */
export function mulhi32(a: number, b: number): number {
  const a0 = a & 0xffff;
  const a1 = a >>> 16;
  const b0 = b & 0xffff;
  const b1 = b >>> 16;
  const p00 = a0 * b0;
  const p01 = a0 * b1;
  const p10 = a1 * b0;
  const p11 = a1 * b1;
  const mid = (p00 >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
  return (p11 + (p01 >>> 16) + (p10 >>> 16) + (mid >>> 16)) >>> 0;
}

/**
 * One Philox4x32-10 block: four u32 output words for counter words `c0..c3` and key
 * words `k0, k1` (word 0 is the least significant, as in Random123). Writes into
 * `out` when given (to avoid allocation in loops) and returns it.
 */
export function philox4x32(
  c0: number,
  c1: number,
  c2: number,
  c3: number,
  k0: number,
  k1: number,
  out: Uint32Array = new Uint32Array(4),
): Uint32Array {
  let x0 = c0 >>> 0;
  let x1 = c1 >>> 0;
  let x2 = c2 >>> 0;
  let x3 = c3 >>> 0;
  let key0 = k0 >>> 0;
  let key1 = k1 >>> 0;
  for (let round = 0; round < PHILOX_ROUNDS; round++) {
    if (round > 0) {
      key0 = (key0 + PHILOX_W0) >>> 0;
      key1 = (key1 + PHILOX_W1) >>> 0;
    }
    const hi0 = mulhi32(PHILOX_M0, x0);
    const lo0 = Math.imul(PHILOX_M0, x0) >>> 0;
    const hi1 = mulhi32(PHILOX_M1, x2);
    const lo1 = Math.imul(PHILOX_M1, x2) >>> 0;
    x0 = (hi1 ^ x1 ^ key0) >>> 0;
    x1 = lo1;
    x2 = (hi0 ^ x3 ^ key1) >>> 0;
    x3 = lo0;
  }
  out[0] = x0;
  out[1] = x1;
  out[2] = x2;
  out[3] = x3;
  return out;
}

/**
 * Where a random op's stream starts: the key (the generator's seed, two words),
 * the 64-bit block counter of element 0 (two words) and the stream id (two words,
 * the counter's upper half). Element `i` of the op reads word `i % 4` of the block
 * whose counter is `[counterLo, counterHi] + floor(i / 4)` (mod 2^64), `[streamLo, streamHi]`.
 */
export interface PhiloxStart {
  key: readonly [number, number];
  /** Counter words 0..3 of element 0's block. */
  counter: readonly [number, number, number, number];
}

/**
 * Fills `out` with the raw u32 words of a stream: element `i` is word `i % 4` of the
 * block at `start.counter + floor(i / 4)` (64-bit addition on words 0–1, with carry).
 * The plain reference that kernels on every backend are compared with.
 */
export function philoxStream(start: PhiloxStart, out: Uint32Array): Uint32Array {
  const [k0, k1] = start.key;
  const [c0, c1, c2, c3] = start.counter;
  const block = new Uint32Array(4);
  for (let b = 0; b * 4 < out.length; b++) {
    const lo = (c0 >>> 0) + b;
    philox4x32(lo >>> 0, (c1 + Math.floor(lo / 2 ** 32)) >>> 0, c2, c3, k0, k1, block);
    for (let j = 0; j < 4 && b * 4 + j < out.length; j++) out[b * 4 + j] = block[j]!;
  }
  return out;
}

/** Attributes every random kernel receives: where its stream starts. */
export interface RandomKernelAttrs {
  start: PhiloxStart;
}

/** `random_uniform`: `low + span · u`, u = (w >> 8) · 2^-24 ∈ [0, 1). */
export interface UniformKernelAttrs extends RandomKernelAttrs {
  low: number;
  span: number;
}

/** `random_normal`: `mean + std · z`, z from Box–Muller over the block's word pairs. */
export interface NormalKernelAttrs extends RandomKernelAttrs {
  mean: number;
  std: number;
}

/**
 * `bernoulli`: true where `w >> 8 < threshold` (with no input; threshold = ceil(p · 2^24),
 * which is exactly `u < p`), or where `u < p[i]` (with a probability tensor input).
 */
export interface BernoulliKernelAttrs extends RandomKernelAttrs {
  threshold: number;
}

/** `randint`: `low + floor(w · range / 2^32)` with range in [1, 2^32]. */
export interface RandintKernelAttrs extends RandomKernelAttrs {
  low: number;
  range: number;
}

/** `dropout`: `x · scale` where `w >> 8 >= threshold` (kept), else 0. */
export interface DropoutKernelAttrs extends RandomKernelAttrs {
  threshold: number;
  scale: number;
}

/** 2^-24: a word's top 24 bits times this is a uniform value exact in f32. */
export const UNIFORM_SCALE = 5.9604644775390625e-8;

/** The uniform in [0, 1) of a raw word: its top 24 bits · 2^-24 (exact in f32). */
export function uniformOfWord(w: number): number {
  return (w >>> 8) * UNIFORM_SCALE;
}

/**
 * Standard normals from one block, by Box–Muller on word pairs (0,1) and (2,3):
 * u1 = ((w0 >> 8) + 1) · 2^-24 ∈ (0, 1] (never 0, so the logarithm is finite; the +1
 * rather than +0.5 keeps u1 exact in f32), θ = 2π · (w1 >> 8) · 2^-24, and
 * z0 = √(−2 ln u1) · cos θ, z1 = √(−2 ln u1) · sin θ. Computed in float64; |z| ≤ 5.77.
 */
export function normalsOfBlock(block: ArrayLike<number>, out: Float64Array): Float64Array {
  for (let pair = 0; pair < 2; pair++) {
    const u1 = ((block[2 * pair]! >>> 8) + 1) * UNIFORM_SCALE;
    const theta = 2 * Math.PI * uniformOfWord(block[2 * pair + 1]!);
    const r = Math.sqrt(-2 * Math.log(u1));
    out[2 * pair] = r * Math.cos(theta);
    out[2 * pair + 1] = r * Math.sin(theta);
  }
  return out;
}
