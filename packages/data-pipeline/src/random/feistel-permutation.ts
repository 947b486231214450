import { mix32 } from '../hash/mix32.js';
import { deriveSeed } from './seed.js';

const ROUNDS = 6;
const MAX_SIZE = 2 ** 52;

/**
 * A pseudo-random permutation of `[0, size)` that is computed one element at a time, in O(1)
 * memory: element `i` of the shuffled order is `at(i)`. It is a balanced Feistel network on
 * the smallest even number of bits that covers `size`, with cycle walking to stay inside the
 * range (values outside are fed through again; on average fewer than four passes).
 *
 * A data loader can then shuffle billions of windows without storing an index array, and
 * resuming needs nothing but the position.
 */
export class FeistelPermutation {
  /** Number of elements permuted. */
  readonly size: number;
  private readonly halfBits: number;
  private readonly halfMask: number;
  private readonly keys: Uint32Array;

  /**
   * @param size - number of elements, an integer in [1, 2^52].
   * @param seed - a non-negative safe integer; each seed gives a different permutation.
   */
  constructor(size: number, seed: number) {
    if (!Number.isInteger(size) || size < 1 || size > MAX_SIZE) {
      throw new RangeError(`FeistelPermutation: size is ${size}; expected an integer in [1, 2^52]`);
    }
    this.size = size;
    let bits = 2;
    while (2 ** bits < size) bits += 2;
    this.halfBits = bits / 2;
    this.halfMask = 2 ** this.halfBits - 1;
    this.keys = new Uint32Array(ROUNDS);
    for (let r = 0; r < ROUNDS; r++) this.keys[r] = deriveSeed(seed, r);
  }

  /**
   * The element at position `index` of the permuted order.
   *
   * @param index - an integer in [0, size).
   * @returns an integer in [0, size); distinct indices give distinct results.
   */
  at(index: number): number {
    if (!Number.isInteger(index) || index < 0 || index >= this.size) {
      throw new RangeError(
        `FeistelPermutation.at: index is ${index}; expected an integer in [0, ${this.size})`,
      );
    }
    let x = index;
    do x = this.encrypt(x);
    while (x >= this.size);
    return x;
  }

  private encrypt(x: number): number {
    const base = 2 ** this.halfBits;
    let left = Math.floor(x / base);
    let right = x % base;
    for (let r = 0; r < ROUNDS; r++) {
      const f = mix32(right ^ this.keys[r]!) & this.halfMask;
      const next = (left ^ f) >>> 0;
      left = right;
      right = next;
    }
    return left * base + right;
  }
}
