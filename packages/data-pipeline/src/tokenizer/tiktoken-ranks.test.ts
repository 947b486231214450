import { Tiktoken } from 'js-tiktoken/lite';
import r50kBundle from 'js-tiktoken/ranks/r50k_base';
import { describe, expect, it } from 'vitest';

import { trainByteLevelBpe } from './bpe-trainer.js';
import { R50K_BASE } from './presets.js';
import {
  formatTiktokenRanks,
  fromJsTiktokenBundle,
  fromTiktokenRanks,
  parseTiktokenRanks,
  toTiktokenRanks,
} from './tiktoken-ranks.js';
import { VARIED_SAMPLES } from './test-utils/samples.js';

/** r50k_base.tiktoken as OpenAI publishes it, rebuilt here from js-tiktoken's compact data. */
function r50kRankFile(): string {
  let out = '';
  for (const line of r50kBundle.bpe_ranks.split('\n')) {
    if (line === '') continue;
    const [, offset, ...b64] = line.split(' ');
    b64.forEach((t, i) => (out += `${t} ${Number(offset) + i}\n`));
  }
  return out;
}

describe('tiktoken rank files', () => {
  it('loads r50k_base.tiktoken and encodes like js-tiktoken', () => {
    const file = r50kRankFile();
    expect(file.startsWith('IQ== 0\nIg== 1\n')).toBe(true);
    const bpe = fromTiktokenRanks(file, R50K_BASE);
    const reference = new Tiktoken(r50kBundle);
    for (const sample of VARIED_SAMPLES)
      expect(bpe.encode(sample)).toEqual(reference.encode(sample, [], []));
    expect(bpe.encode('x', { addEos: true })).toEqual([87, 50256]);
    expect(bpe.vocabSize).toBe(50257);
    expect(toTiktokenRanks(bpe)).toBe(file);
    expect(toTiktokenRanks(fromJsTiktokenBundle(r50kBundle))).toBe(file);
  });

  it('round-trips rank files with unused ids', () => {
    const tokens = parseTiktokenRanks('AA== 0\nAQ== 2\n\nAgM= 5\n');
    expect(tokens).toEqual([
      Uint8Array.of(0),
      undefined,
      Uint8Array.of(1),
      undefined,
      undefined,
      Uint8Array.of(2, 3),
    ]);
    expect(formatTiktokenRanks(tokens)).toBe('AA== 0\nAQ== 2\nAgM= 5\n');
  });

  it('names the malformed line and refuses lossy conversions', () => {
    expect(() => parseTiktokenRanks('AA== 0\nnot a rank line\n')).toThrow(
      'parseTiktokenRanks: line 2 is "not a rank line"; expected "<base64 token> <rank>"',
    );
    expect(() => parseTiktokenRanks('AA== 0\nAQ== 0\n')).toThrow(/line 2 repeats rank 0/);
    expect(() => fromTiktokenRanks('AA== 0\n', R50K_BASE)).toThrow(
      /no single-byte token for byte 0x01/,
    );
    expect(() => fromTiktokenRanks('AA== 0\n', {})).toThrow(/options.patterns is missing/);
    const trained = trainByteLevelBpe('abababab', { vocabSize: 258, minFrequency: 1 });
    expect(() => toTiktokenRanks(trained)).toThrow(/explicit merge list/);
  });
});
