/**
 * A tiny character-level corpus: sentences drawn from a small seeded grammar, so training
 * and validation text come from one distribution (a fixed passage this short is memorised
 * within a few dozen steps, and every model then overfits).
 */
import { type Device, type Tensor, fromArray } from '@fathom/tensor-core';
import { rng } from '@fathom/tensor-core/testing';

const WORDS = {
  det: ['the', 'a', 'every', 'no'],
  adj: ['old', 'quiet', 'bright', 'heavy', 'small', 'green'],
  noun: ['king', 'queen', 'river', 'city', 'season', 'light', 'winter', 'garden'],
  verb: ['sees', 'follows', 'hides', 'warms', 'keeps', 'leaves'],
  adv: ['slowly', 'often', 'never', 'again'],
};

function sentences(seed: number, chars: number): string {
  const rand = rng(seed);
  const pick = (list: readonly string[]): string => list[Math.floor(rand() * list.length)]!;
  const phrase = (): string =>
    rand() < 0.5
      ? `${pick(WORDS.det)} ${pick(WORDS.noun)}`
      : `${pick(WORDS.det)} ${pick(WORDS.adj)} ${pick(WORDS.noun)}`;
  let out = '';
  while (out.length < chars) {
    const tail = rand() < 0.3 ? ` ${pick(WORDS.adv)}` : '';
    out += `${phrase()} ${pick(WORDS.verb)} ${phrase()}${tail}. `;
  }
  return out.slice(0, chars);
}

const TRAIN = sentences(1, 6000);
const VALIDATION = sentences(2, 1500);
const TEXT = TRAIN + VALIDATION;

/** The sorted character set. */
export const ALPHABET = [...new Set(TEXT)].sort();
const encode = (text: string): number[] => [...text].map((c) => ALPHABET.indexOf(c));
/** Training and validation ids (different grammar draws). */
export const SPLITS = { train: encode(TRAIN), validation: encode(VALIDATION) } as const;

/** Windows `[rows, length]` of ids and next-token targets starting at deterministic offsets. */
export function batchOf(
  device: Device,
  split: keyof typeof SPLITS,
  step: number,
  rows: number,
  length: number,
): { ids: Tensor; targets: Tensor } {
  const data = SPLITS[split];
  const x: number[] = [];
  const y: number[] = [];
  for (let r = 0; r < rows; r++) {
    const start = (step * 53 + r * 97) % (data.length - length - 1);
    for (let i = 0; i < length; i++) {
      x.push(data[start + i]!);
      y.push(data[start + i + 1]!);
    }
  }
  return {
    ids: fromArray(x, [rows, length], { device, dtype: 'i32' }),
    targets: fromArray(y, [rows, length], { device, dtype: 'i32' }),
  };
}
