import { Tiktoken } from 'js-tiktoken/lite';
import cl100kBundle from 'js-tiktoken/ranks/cl100k_base';
import r50kBundle from 'js-tiktoken/ranks/r50k_base';
import { beforeAll, describe, expect, it } from 'vitest';

import { fromHuggingFaceJson, mergesFromRanks, toHuggingFaceJson } from './hf-tokenizer-json.js';
import { LLAMA3_PATTERN } from './pattern.js';
import { fromJsTiktokenBundle } from './tiktoken-ranks.js';
import { brownText } from './test-utils/brown.js';
import { firstDifference } from './test-utils/compare.js';
import { LONE_SURROGATE_SAMPLES, VARIED_SAMPLES } from './test-utils/samples.js';

// GPT-2's bytes_to_unicode, written out again from the Python original.
function bytesToUnicode(): string[] {
  const bs: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) bs.push(b);
  for (let b = 0xa1; b <= 0xac; b++) bs.push(b);
  for (let b = 0xae; b <= 0xff; b++) bs.push(b);
  const cs = [...bs];
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (!bs.includes(b)) {
      bs.push(b);
      cs.push(256 + n++);
    }
  }
  const table: string[] = [];
  bs.forEach((b, i) => (table[b] = String.fromCharCode(cs[i]!)));
  return table;
}

/** Ranks from js-tiktoken's bundle as Latin-1 strings, decoded here independently. */
function ranksOf(bundle: { bpe_ranks: string }): string[] {
  const tokens: string[] = [];
  for (const line of bundle.bpe_ranks.split('\n')) {
    if (line === '') continue;
    const [, offset, ...b64] = line.split(' ');
    b64.forEach(
      (t, i) => (tokens[Number(offset) + i] = Buffer.from(t, 'base64').toString('latin1')),
    );
  }
  return tokens;
}

/** HF's tiktoken conversion: a token's merge is BPE on its bytes using only lower ranks. */
function slowMerges(tokens: string[]): [string, string][] {
  const rank = new Map(tokens.map((t, i) => [t, i]));
  const merges: [string, string][] = [];
  tokens.forEach((token, r) => {
    if (token.length < 2) return;
    const parts = token.split('');
    for (;;) {
      let best = -1;
      let bestRank = r;
      for (let i = 0; i + 1 < parts.length; i++) {
        const pr = rank.get(parts[i]! + parts[i + 1]!);
        if (pr !== undefined && pr < bestRank) {
          bestRank = pr;
          best = i;
        }
      }
      if (best < 0) break;
      parts.splice(best, 2, parts[best]! + parts[best + 1]!);
    }
    expect(parts).toHaveLength(2);
    merges.push([parts[0]!, parts[1]!]);
  });
  return merges;
}

function hfJson(bundle: typeof r50kBundle, style: 'gpt2' | 'llama3'): Record<string, unknown> {
  const table = bytesToUnicode();
  const show = (latin1: string) => [...latin1].map((c) => table[c.charCodeAt(0)]).join('');
  const tokens = ranksOf(bundle);
  const vocab: Record<string, number> = {};
  tokens.forEach((t, id) => (vocab[show(t)] = id));
  const merges = slowMerges(tokens).map(([a, b]) => [show(a), show(b)] as [string, string]);
  const added = Object.entries(bundle.special_tokens).map(([content, id]) => ({
    id,
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: style === 'gpt2',
    special: true,
  }));
  if (style === 'gpt2') {
    vocab['<|endoftext|>'] = 50256;
    return {
      version: '1.0',
      truncation: null,
      padding: null,
      added_tokens: added,
      normalizer: null,
      pre_tokenizer: {
        type: 'ByteLevel',
        add_prefix_space: false,
        trim_offsets: true,
        use_regex: true,
      },
      post_processor: {
        type: 'ByteLevel',
        add_prefix_space: true,
        trim_offsets: false,
        use_regex: true,
      },
      decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
      model: {
        type: 'BPE',
        dropout: null,
        unk_token: null,
        continuing_subword_prefix: '',
        end_of_word_suffix: '',
        fuse_unk: false,
        vocab,
        merges: merges.map(([a, b]) => `${a} ${b}`),
      },
    };
  }
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: null,
    pre_tokenizer: {
      type: 'Sequence',
      pretokenizers: [
        { type: 'Split', pattern: { Regex: LLAMA3_PATTERN }, behavior: 'Isolated', invert: false },
        { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
      ],
    },
    post_processor: {
      type: 'Sequence',
      processors: [
        { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true },
        {
          type: 'TemplateProcessing',
          single: [
            { SpecialToken: { id: '<|endoftext|>', type_id: 0 } },
            { Sequence: { id: 'A', type_id: 0 } },
          ],
          pair: [],
          special_tokens: {},
        },
      ],
    },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: true,
      vocab,
      merges,
    },
  };
}

describe('Hugging Face tokenizer.json', () => {
  let text: string;
  let gpt2Json: Record<string, unknown>;
  beforeAll(() => {
    text = brownText().slice(0, 300_000);
    gpt2Json = hfJson(r50kBundle, 'gpt2');
  });

  it('GPT-2 style file ("a b" merges, ByteLevel regex) gives js-tiktoken r50k ids', () => {
    const hf = fromHuggingFaceJson(JSON.stringify(gpt2Json));
    const reference = new Tiktoken(r50kBundle);
    expect(firstDifference(hf.encode(text), reference.encode(text, [], []))).toBeUndefined();
    for (const sample of VARIED_SAMPLES) {
      expect(hf.encode(sample, { allowedSpecial: 'none' })).toEqual(
        reference.encode(sample, [], []),
      );
    }
    expect(hf.encode('a<|endoftext|>b')).toEqual(reference.encode('a<|endoftext|>b', 'all'));
    for (const sample of LONE_SURROGATE_SAMPLES) expect(hf.decode(hf.encode(sample))).toBe(sample);
  });

  it('LLaMA-3 style file (Split + ByteLevel, [a, b] merges, BOS template) gives cl100k ids', () => {
    const hf = fromHuggingFaceJson(hfJson(cl100kBundle, 'llama3'));
    const reference = new Tiktoken(cl100kBundle);
    expect(hf.bosId).toBe(100257);
    const ids = hf.encode(text);
    expect(ids[0]).toBe(100257);
    expect(firstDifference(ids.slice(1), reference.encode(text, [], []))).toBeUndefined();
    for (const sample of VARIED_SAMPLES) {
      expect(hf.encode(sample, { addBos: false, allowedSpecial: 'none' })).toEqual(
        reference.encode(sample, [], []),
      );
    }
  });

  it('writes tiktoken vocabularies with the same merges and ids', () => {
    const ours = fromJsTiktokenBundle(r50kBundle);
    const written = toHuggingFaceJson(ours);
    const model = written['model'] as { merges: [string, string][] };
    const gpt2Model = gpt2Json['model'] as { merges: string[] };
    expect(model.merges.map(([a, b]) => `${a} ${b}`)).toEqual(gpt2Model.merges);
    const loaded = fromHuggingFaceJson(JSON.parse(JSON.stringify(written)) as object);
    const sample = text.slice(0, 100_000);
    expect(firstDifference(loaded.encode(sample), ours.encode(sample))).toBeUndefined();
    expect(mergesFromRanks(ours.toConfig().tokens)).toHaveLength(50000);
  });

  it('rejects unsupported components, naming the field, what it found and what is supported', () => {
    const withPatch = (patch: Record<string, unknown>) => ({ ...gpt2Json, ...patch });
    const model = gpt2Json['model'] as Record<string, unknown>;
    expect(() =>
      fromHuggingFaceJson(withPatch({ model: { ...model, type: 'WordPiece' } })),
    ).toThrow('fromHuggingFaceJson: model.type is "WordPiece"; expected "BPE"');
    expect(() =>
      fromHuggingFaceJson(withPatch({ pre_tokenizer: { type: 'Metaspace', replacement: '▁' } })),
    ).toThrow(/pre_tokenizer is \{"type":"Metaspace".*expected ByteLevel/);
    expect(() => fromHuggingFaceJson(withPatch({ normalizer: { type: 'NFC' } }))).toThrow(
      'normalizer is {"type":"NFC"}; expected null',
    );
    expect(() =>
      fromHuggingFaceJson(withPatch({ added_tokens: [{ id: 1, content: 'x', lstrip: true }] })),
    ).toThrow('added_tokens[0].lstrip is true; expected false');
    expect(() =>
      fromHuggingFaceJson(withPatch({ model: { ...model, merges: ['Ġ zzz'] } })),
    ).toThrow(/model.merges\[0\] is "Ġ zzz"; expected tokens of model.vocab \("zzz" is not one\)/);
    expect(() =>
      fromHuggingFaceJson(withPatch({ model: { ...model, vocab: { 'a b': 0 } } })),
    ).toThrow(/model.vocab key is "a b"; expected a string in GPT-2's byte-level alphabet/);
    expect(() => fromHuggingFaceJson('{not json')).toThrow(/json is not valid JSON/);
  });
});
