import { seedWords } from './seed.js';

/** The four 32-bit words of a {@link Xoshiro128} generator, safe to store as JSON. */
export type Xoshiro128State = [number, number, number, number];

/**
 * xoshiro128** (Blackman and Vigna), a small, fast generator with a 2^128 - 1 period.
 * It works on 32-bit words, which JavaScript handles exactly, and its whole state is four
 * integers, so a run can be saved and resumed bit for bit.
 */
export class Xoshiro128 {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  /**
   * @param seed - a non-negative safe integer; the state is filled from it with SplitMix32,
   *   as the xoshiro authors recommend, so nearby seeds give unrelated streams.
   */
  constructor(seed: number) {
    const [hi, lo] = seedWords(seed, 'Xoshiro128: seed');
    let x = (lo ^ Math.imul(hi, 0x9e3779b9)) >>> 0;
    const next = (): number => {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /**
   * Rebuilds a generator from {@link Xoshiro128.getState}.
   *
   * @param state - four unsigned 32-bit integers, not all zero.
   * @returns a generator that continues exactly where the saved one stopped.
   */
  static fromState(state: readonly number[]): Xoshiro128 {
    const ok =
      Array.isArray(state) &&
      state.length === 4 &&
      state.every((w) => Number.isInteger(w) && w >= 0 && w <= 0xffffffff) &&
      state.some((w) => w !== 0);
    if (!ok) {
      throw new TypeError(
        `Xoshiro128.fromState: state is ${JSON.stringify(state)}; expected four unsigned 32-bit integers, not all zero`,
      );
    }
    const g = new Xoshiro128(0);
    [g.s0, g.s1, g.s2, g.s3] = state as Xoshiro128State;
    return g;
  }

  /** @returns a copy of the state, for {@link Xoshiro128.fromState}. */
  getState(): Xoshiro128State {
    return [this.s0, this.s1, this.s2, this.s3];
  }

  /** @returns the next unsigned 32-bit integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    this.s0 >>>= 0;
    this.s1 >>>= 0;
    this.s2 >>>= 0;
    this.s3 >>>= 0;
    return result;
  }

  /** @returns a float uniform on [0, 1) with 53 random bits. */
  nextFloat(): number {
    const hi = this.nextUint32() >>> 5; // 27 bits
    const lo = this.nextUint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /**
   * An unbiased integer uniform on [0, n).
   *
   * @param n - the number of outcomes, an integer in [1, 2^32].
   * @returns an integer in [0, n).
   */
  nextInt(n: number): number {
    if (!Number.isInteger(n) || n < 1 || n > 0x100000000) {
      throw new RangeError(`Xoshiro128.nextInt: n is ${n}; expected an integer in [1, 2^32]`);
    }
    // Rejection sampling: draws falling in the incomplete last block of size n are redrawn.
    const limit = 0x100000000 - (0x100000000 % n);
    let x = this.nextUint32();
    while (x >= limit) x = this.nextUint32();
    return x % n;
  }

  /**
   * `true` with probability `p`.
   *
   * @param p - a probability in [0, 1].
   * @returns the outcome of one Bernoulli trial.
   */
  nextBool(p: number): boolean {
    if (!(p >= 0 && p <= 1)) {
      throw new RangeError(`Xoshiro128.nextBool: p is ${p}; expected a probability in [0, 1]`);
    }
    return this.nextFloat() < p;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
