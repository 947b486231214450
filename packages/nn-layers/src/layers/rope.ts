/**
 * Rotary position embedding (RoPE) in the layout Hugging Face's LLaMA uses: the
 * head dim splits into halves (x₁, x₂) rotated by position-dependent angles
 * θ_i = pos · base^(−2i/d): (x₁cos − x₂sin, x₂cos + x₁sin).
 */
import {
  type Device,
  type Tensor,
  add,
  concat,
  fromArray,
  keep,
  mul,
  slice,
  sub,
} from '@fathom/tensor-core';

/** Precomputed cos/sin tables up to a maximum length. */
export class Rope {
  private readonly cos: Tensor;
  private readonly sin: Tensor;

  constructor(
    readonly headDim: number,
    readonly maxLength: number,
    readonly base = 10000,
    device?: Device,
  ) {
    if (!Number.isInteger(headDim) || headDim <= 0 || headDim % 2 !== 0) {
      throw new RangeError(`Rope: headDim must be a positive even integer; got ${headDim}`);
    }
    const half = headDim / 2;
    const cos = new Float64Array(maxLength * half);
    const sin = new Float64Array(maxLength * half);
    for (let pos = 0; pos < maxLength; pos++) {
      for (let i = 0; i < half; i++) {
        const angle = pos * Math.pow(base, (-2 * i) / headDim);
        cos[pos * half + i] = Math.cos(angle);
        sin[pos * half + i] = Math.sin(angle);
      }
    }
    const opts = device ? { device } : {};
    this.cos = keep(fromArray(cos, [maxLength, half], opts));
    this.sin = keep(fromArray(sin, [maxLength, half], opts));
  }

  /** Rotates x: [..., T, headDim] for positions offset … offset+T−1. */
  apply(x: Tensor, offset = 0): Tensor {
    const t = x.shape[x.rank - 2]!;
    const d = x.shape[x.rank - 1]!;
    if (d !== this.headDim)
      throw new RangeError(`Rope: input has head dim ${d}; expected ${this.headDim}`);
    if (offset + t > this.maxLength) {
      throw new RangeError(
        `Rope: positions up to ${offset + t} exceed maxLength ${this.maxLength}`,
      );
    }
    const half = d / 2;
    const lead = Array.from({ length: x.rank - 1 }, () => undefined);
    const x1 = slice(x, [...lead, { end: half }]);
    const x2 = slice(x, [...lead, { start: half }]);
    const c = slice(this.cos, [{ start: offset, end: offset + t }]);
    const s = slice(this.sin, [{ start: offset, end: offset + t }]);
    const a = mul(x1, c);
    const b = mul(x2, s);
    const e = mul(x2, c);
    const f = mul(x1, s);
    const first = sub(a, b);
    const second = add(e, f);
    const out = concat([first, second], -1);
    for (const z of [x1, x2, c, s, a, b, e, f, first, second]) z.dispose();
    return out;
  }

  dispose(): void {
    this.cos.dispose();
    this.sin.dispose();
  }
}
