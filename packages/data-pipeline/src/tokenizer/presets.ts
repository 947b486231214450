// The published settings that tiktoken rank files do not carry: pattern and special tokens.

import { CL100K_PATTERN, GPT2_PATTERN } from './pattern.js';
import type { TiktokenOptions } from './tiktoken-ranks.js';

/** Settings of OpenAI's r50k_base (GPT-2/GPT-3) encoding, to pass with its rank file. */
export const R50K_BASE: TiktokenOptions = Object.freeze({
  patterns: [GPT2_PATTERN],
  specialTokens: { '<|endoftext|>': 50256 },
  eosToken: '<|endoftext|>',
});

/** Settings of OpenAI's cl100k_base (GPT-3.5/GPT-4) encoding, to pass with its rank file. */
export const CL100K_BASE: TiktokenOptions = Object.freeze({
  patterns: [CL100K_PATTERN],
  specialTokens: {
    '<|endoftext|>': 100257,
    '<|fim_prefix|>': 100258,
    '<|fim_middle|>': 100259,
    '<|fim_suffix|>': 100260,
    '<|endofprompt|>': 100276,
  },
  eosToken: '<|endoftext|>',
});
