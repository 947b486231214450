/**
 * Two tasks built from the Brown corpus's held-out (validation) documents, deterministic under a
 * seed:
 *
 * - `brown-next-sentence`: given one or two sentences, pick the sentence that follows them in
 *   the document among distractor sentences drawn from other documents (multiple choice);
 * - `brown-genre`: given a passage, pick its genre among the corpus's 15 categories
 *   (classification).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  BROWN_CATEGORIES,
  type BrownSentence,
  Xoshiro128,
  brownCorpusDirectory,
  detokenizeBrownParagraph,
  loadBrownCorpus,
  parseBrownTagged,
  shuffleInPlace,
} from '@fathom/data-pipeline';
import type { EvalTask, TaskExample } from './task-format.js';

/** Names of the built-in tasks. */
export const BUILTIN_TASKS = ['brown-next-sentence', 'brown-genre'] as const;
/** A built-in task's name. */
export type BuiltinTaskName = (typeof BUILTIN_TASKS)[number];

/** Options of {@link buildBrownTask}. */
export interface BrownTaskOptions {
  /** Examples to make (default 200 for next-sentence, 150 for genre). */
  size?: number;
  /** Seed of every random choice (default 1234). */
  seed?: number;
  /** Distractors per next-sentence example (default 3). */
  distractors?: number;
}

interface ValidationDocument {
  fileId: string;
  categoryName: string;
  /** Paragraphs as lists of sentence texts. */
  paragraphs: string[][];
}

const words = (s: string): number => s.split(/\s+/).filter(Boolean).length;
const sentenceText = (s: BrownSentence): string => detokenizeBrownParagraph([s]);

async function validationDocuments(): Promise<ValidationDocument[]> {
  const dir = brownCorpusDirectory();
  const docs = await loadBrownCorpus({ split: 'validation' });
  return Promise.all(
    docs.map(async (d) => ({
      fileId: d.meta!.fileId,
      categoryName: d.meta!.categoryName,
      paragraphs: parseBrownTagged(await readFile(join(dir, d.meta!.fileId), 'utf8')).map((p) =>
        p.map(sentenceText),
      ),
    })),
  );
}

const usable = (s: string): boolean => words(s) >= 5 && words(s) <= 40;

async function nextSentenceTask(options: BrownTaskOptions): Promise<EvalTask> {
  const size = options.size ?? 200;
  const distractors = options.distractors ?? 3;
  const rng = new Xoshiro128(options.seed ?? 1234);
  const docs = await validationDocuments();
  const candidates: { doc: number; context: string; next: string }[] = [];
  const pool: { doc: number; text: string }[] = [];
  docs.forEach((d, di) => {
    for (const para of d.paragraphs) {
      para.forEach((s, i) => {
        if (usable(s)) pool.push({ doc: di, text: s });
        if (i === 0 || !usable(s) || !usable(para[i - 1]!)) return;
        const before =
          i >= 2 && usable(para[i - 2]!) ? `${para[i - 2]} ${para[i - 1]}` : para[i - 1]!;
        candidates.push({ doc: di, context: before, next: s });
      });
    }
  });
  shuffleInPlace(candidates, rng);
  const examples: TaskExample[] = candidates.slice(0, size).map((c, n) => {
    const others = new Set<string>();
    while (others.size < distractors) {
      const pick = pool[rng.nextInt(pool.length)]!;
      if (pick.doc !== c.doc && pick.text !== c.next) others.add(pick.text);
    }
    const choices = shuffleInPlace([c.next, ...others], rng);
    return {
      id: `brown-next-sentence/${docs[c.doc]!.fileId}/${n}`,
      context: c.context,
      choices,
      label: choices.indexOf(c.next),
    };
  });
  return {
    name: 'brown-next-sentence',
    type: 'multiple_choice',
    delimiter: ' ',
    description: `Pick the sentence that follows, against ${distractors} sentences from other held-out Brown documents.`,
    examples,
  };
}

/** The genre names offered as choices (`belles_lettres` → `belles lettres`). */
export const GENRE_CHOICES = Object.values(BROWN_CATEGORIES).map((c) => c.name.replace(/_/g, ' '));

async function genreTask(options: BrownTaskOptions): Promise<EvalTask> {
  const size = options.size ?? 150;
  const rng = new Xoshiro128(options.seed ?? 1234);
  const docs = await validationDocuments();
  const passages: { doc: ValidationDocument; text: string }[] = [];
  for (const d of docs) {
    for (const para of d.paragraphs) {
      const text = para.join(' ');
      const w = text.split(/\s+/).filter(Boolean);
      if (w.length < 20) continue;
      passages.push({ doc: d, text: w.slice(0, 48).join(' ') });
    }
  }
  // Balance genres: deal passages round-robin over genres after shuffling within each.
  const byGenre = new Map<string, typeof passages>();
  for (const p of shuffleInPlace(passages, rng)) {
    const g = byGenre.get(p.doc.categoryName) ?? [];
    g.push(p);
    byGenre.set(p.doc.categoryName, g);
  }
  const picked: typeof passages = [];
  const genres = [...byGenre.keys()].sort();
  for (let round = 0; picked.length < size; round++) {
    let any = false;
    for (const g of genres) {
      const p = byGenre.get(g)![round];
      if (p && picked.length < size) {
        picked.push(p);
        any = true;
      }
    }
    if (!any) break;
  }
  const examples = picked.map((p, n) => ({
    id: `brown-genre/${p.doc.fileId}/${n}`,
    context: `Passage: ${p.text}\nGenre:`,
    choices: GENRE_CHOICES,
    label: GENRE_CHOICES.indexOf(p.doc.categoryName.replace(/_/g, ' ')),
  }));
  return {
    name: 'brown-genre',
    type: 'classification',
    delimiter: ' ',
    description: 'Name the Brown genre of a passage from a held-out document (15 classes).',
    examples,
  };
}

/**
 * Builds a built-in task from the Brown validation split.
 *
 * @param name - `brown-next-sentence` or `brown-genre`.
 * @param options - size, seed, distractors.
 */
export async function buildBrownTask(
  name: BuiltinTaskName,
  options: BrownTaskOptions = {},
): Promise<EvalTask> {
  if (name === 'brown-next-sentence') return nextSentenceTask(options);
  if (name === 'brown-genre') return genreTask(options);
  throw new RangeError(
    `buildBrownTask: name is ${JSON.stringify(name)}; expected one of ${BUILTIN_TASKS.join(', ')}`,
  );
}
