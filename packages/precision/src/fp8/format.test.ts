import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Device, type Tensor, execute, fromArray, scope } from '@fathom/tensor-core';
import { openTestDevices, type TestDevices } from '@fathom/tensor-core/testing';
import { FP8_DEQUANTIZE, FP8_QUANTIZE, registerFp8Kernels } from './fp8-kernels.js';
import { type Fp8Format, decodeFp8, encodeFp8 } from './format.js';

// Oracle written here from the OCP FP8 spec's bit fields, independent of format.ts.
const SPEC = {
  e4m3: { e: 4, m: 3, bias: 7 },
  e5m2: { e: 5, m: 2, bias: 15 },
} as const;

function specDecode(code: number, format: Fp8Format): number {
  const { e, m, bias } = SPEC[format];
  const s = code >> 7 ? -1 : 1;
  const ef = (code >> m) & ((1 << e) - 1);
  const mf = code & ((1 << m) - 1);
  if (format === 'e4m3' && ef === 15 && mf === 7) return NaN;
  if (format === 'e5m2' && ef === 31) return mf === 0 ? s * Infinity : NaN;
  if (ef === 0) return s * mf * 2 ** (1 - bias - m);
  return s * (1 + mf * 2 ** -m) * 2 ** (ef - bias);
}

/** Finite non-negative codes sorted by value (code order is value order for them). */
function finiteCodes(format: Fp8Format): number[] {
  const out: number[] = [];
  for (let c = 0; c < 128; c++) if (Number.isFinite(specDecode(c, format))) out.push(c);
  return out;
}

/** Nearest code by exhaustive search, ties to the even code, overflow per the format's rule. */
function specEncode(x: number, format: Fp8Format, saturate: boolean): number {
  if (Number.isNaN(x)) return 0x7f;
  const sign = x < 0 || Object.is(x, -0) ? 0x80 : 0;
  const a = Math.abs(x);
  const codes = finiteCodes(format);
  const maxCode = codes[codes.length - 1]!;
  const max = specDecode(maxCode, format);
  // Rounding is to nearest in an unbounded exponent range (the next value after max is
  // max + step, whose code would be maxCode + 1); a tie at max + step/2 goes to the even one.
  const step = max - specDecode(maxCode - 1, format);
  const edge = max + step / 2;
  if (a > edge || (a === edge && (maxCode & 1) === 1) || a === Infinity) {
    if (saturate) return sign | maxCode;
    return sign | (format === 'e4m3' ? 0x7f : 0x7c);
  }
  let best = 0;
  let bestErr = Infinity;
  for (const c of codes) {
    const err = Math.abs(specDecode(c, format) - a);
    if (err < bestErr || (err === bestErr && (c & 1) === 0)) {
      best = c;
      bestErr = err;
    }
  }
  if (a > max && saturate) return sign | maxCode;
  return sign | best;
}

function nextUp(x: number): number {
  const f = new Float32Array([x]);
  const u = new Uint32Array(f.buffer);
  u[0] = x >= 0 ? u[0]! + 1 : u[0]! - 1;
  return f[0]!;
}
function nextDown(x: number): number {
  return -nextUp(-x);
}

/** Inputs covering every code, every midpoint (ties) and its f32 neighbours, specials and overflow. */
function probes(format: Fp8Format): number[] {
  const codes = finiteCodes(format);
  const out: number[] = [0, -0, Infinity, -Infinity, NaN, 1e-30, -1e-30, 1e-45, 3e38, -3e38];
  for (let i = 0; i < codes.length; i++) {
    const v = specDecode(codes[i]!, format);
    out.push(v, -v, nextUp(v), nextDown(v));
    if (i + 1 < codes.length) {
      const mid = (v + specDecode(codes[i + 1]!, format)) / 2;
      out.push(mid, -mid, nextUp(mid), nextDown(mid));
    }
  }
  const max = specDecode(codes[codes.length - 1]!, format);
  const step = max - specDecode(codes[codes.length - 2]!, format);
  for (const v of [max + step / 2, nextDown(max + step / 2), max + step, 2 * max, 1e6])
    out.push(v, -v);
  return out.map(Math.fround);
}

function sameValue(a: number, b: number): boolean {
  return (Number.isNaN(a) && Number.isNaN(b)) || Object.is(a, b);
}

let d: TestDevices;
beforeAll(async () => {
  d = await openTestDevices();
  registerFp8Kernels();
});
afterAll(() => d.close());

async function gpuEncode(
  device: Device,
  xs: number[],
  format: Fp8Format,
  saturate: boolean,
): Promise<number[]> {
  return scope(async () => {
    const x = fromArray(xs, [xs.length], { device });
    const scales = fromArray([1], [1, 1], { device });
    const attrs = {
      format,
      rows: 1,
      cols: xs.length,
      blockRows: 1,
      blockCols: xs.length,
      saturate,
    };
    const [codes] = execute(
      FP8_QUANTIZE,
      device,
      [x, scales],
      [{ shape: [Math.ceil(xs.length / 4)], dtype: 'u32' }],
      attrs,
    ) as [Tensor];
    const words = await codes.toArray();
    return xs.map((_, i) => (words[i >> 2]! >>> ((i & 3) * 8)) & 0xff);
  });
}

async function gpuDecode(device: Device, codes: number[], format: Fp8Format): Promise<number[]> {
  return scope(async () => {
    const words = new Uint32Array(Math.ceil(codes.length / 4));
    codes.forEach((c, i) => (words[i >> 2] = (words[i >> 2]! | (c << ((i & 3) * 8))) >>> 0));
    const q = fromArray(words, [words.length], { device, dtype: 'u32' });
    const scales = fromArray([1], [1, 1], { device });
    const attrs = { format, rows: 1, cols: codes.length, blockRows: 1, blockCols: codes.length };
    const [y] = execute(
      FP8_DEQUANTIZE,
      device,
      [q, scales],
      [{ shape: [codes.length], dtype: 'f32' }],
      attrs,
    ) as [Tensor];
    return Array.from(await y.toArray());
  });
}

describe.each(['e4m3', 'e5m2'] as const)('fp8 %s', (format) => {
  const all = Array.from({ length: 256 }, (_, c) => c);

  it('spec facts: max, smallest subnormal, inf and NaN codes', () => {
    if (format === 'e4m3') {
      expect(specDecode(0x7e, format)).toBe(448);
      expect(specDecode(0x01, format)).toBe(2 ** -9);
      expect(specDecode(0x7f, format)).toBeNaN();
      expect(specDecode(0xff, format)).toBeNaN();
      expect(all.filter((c) => Number.isNaN(specDecode(c, format)))).toHaveLength(2);
    } else {
      expect(specDecode(0x7b, format)).toBe(57344);
      expect(specDecode(0x01, format)).toBe(2 ** -16);
      expect(specDecode(0x7c, format)).toBe(Infinity);
      expect(specDecode(0xfc, format)).toBe(-Infinity);
      expect(all.filter((c) => Number.isNaN(specDecode(c, format)))).toHaveLength(6);
    }
  });

  it('host decode of all 256 codes matches the spec', () => {
    for (const c of all)
      expect(sameValue(decodeFp8(c, format), specDecode(c, format)), `code ${c}`).toBe(true);
  });

  it('device decode of all 256 codes matches the spec (webgpu and reference)', async () => {
    for (const device of [d.gpu, d.cpu]) {
      const got = await gpuDecode(device, all, format);
      all.forEach((c) =>
        expect(sameValue(got[c]!, specDecode(c, format)), `${device.name} code ${c}`).toBe(true),
      );
    }
  });

  it.each([true, false])(
    'encode (saturate %s): every value, midpoint, neighbour and special on host, webgpu and reference',
    async (saturate) => {
      const xs = probes(format);
      const want = xs.map((x) => specEncode(x, format, saturate));
      const host = xs.map((x) => encodeFp8(x, format, { saturate }));
      const gpu = await gpuEncode(d.gpu, xs, format, saturate);
      const cpu = await gpuEncode(d.cpu, xs, format, saturate);
      xs.forEach((x, i) => {
        // NaN inputs: any NaN code of the right format is acceptable; we write 0x7f.
        expect(host[i], `host ${x}`).toBe(want[i]);
        expect(gpu[i], `webgpu ${x}`).toBe(want[i]);
        expect(cpu[i], `cpu ${x}`).toBe(want[i]);
      });
    },
  );

  it('ties go to the even code', () => {
    const codes = finiteCodes(format);
    for (let i = 0; i + 1 < codes.length; i++) {
      const lo = codes[i]!;
      const mid = (specDecode(lo, format) + specDecode(lo + 1, format)) / 2;
      const even = lo % 2 === 0 ? lo : lo + 1;
      const got = encodeFp8(mid, format, { saturate: true });
      expect(got, `midpoint ${mid}`).toBe(even);
    }
  });
});
