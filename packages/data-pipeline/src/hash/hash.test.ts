import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { combine32, fnv1a32, fnv1a64, fnv1a64Hex, mix32 } from './index.js';

// Direct BigInt FNV-1a 64 over the UTF-8 bytes, the slow oracle.
function fnv64Oracle(text: string): bigint {
  let h = 0xcbf29ce484222325n;
  for (const byte of new TextEncoder().encode(text)) {
    h ^= BigInt(byte);
    h = (h * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return h;
}

describe('FNV-1a', () => {
  it('matches the published test vectors', () => {
    expect(fnv1a32('')).toBe(0x811c9dc5);
    expect(fnv1a32('a')).toBe(0xe40c292c);
    expect(fnv1a32('foobar')).toBe(0xbf9cf968);
    expect(fnv1a64('')).toBe(0xcbf29ce484222325n);
    expect(fnv1a64('a')).toBe(0xaf63dc4c8601ec8cn);
    expect(fnv1a64('foobar')).toBe(0x85944171f73967e8n);
    expect(fnv1a64Hex('a')).toBe('af63dc4c8601ec8c');
  });

  it('agrees with a BigInt implementation on any string', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary', maxLength: 200 }),
        (s) => fnv1a64(s) === fnv64Oracle(s),
      ),
      { numRuns: 300 },
    );
  });

  it('hashes bytes and strings alike', () => {
    expect(fnv1a64(new TextEncoder().encode('héllo'))).toBe(fnv1a64('héllo'));
    expect(fnv1a32(new Uint8Array([0x61]))).toBe(fnv1a32('a'));
  });
});

describe('mix32', () => {
  it('is a bijection with avalanche', () => {
    const seen = new Set<number>();
    for (let i = 0; i < 1 << 16; i++) seen.add(mix32(i));
    expect(seen.size).toBe(1 << 16);
    // Flipping one input bit flips about half of the output bits.
    let flips = 0;
    let trials = 0;
    for (let x = 1; x < 2000; x += 7) {
      for (let bit = 0; bit < 32; bit++) {
        const d = (mix32(x) ^ mix32(x ^ (1 << bit))) >>> 0;
        flips += d.toString(2).split('1').length - 1;
        trials++;
      }
    }
    expect(flips / trials).toBeGreaterThan(15);
    expect(flips / trials).toBeLessThan(17);
    expect(combine32(1, 2)).not.toBe(combine32(2, 1));
  });
});
