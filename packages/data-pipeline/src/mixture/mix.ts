import type { MixtureSampler } from './sampler.js';

/** A source's items: an iterable read once, or a function that starts a fresh pass. */
export type MixtureInput<T> =
  Iterable<T> | AsyncIterable<T> | (() => Iterable<T> | AsyncIterable<T>);

/** One item of a mixed stream. */
export interface MixedItem<T> {
  /** Name of the source it came from. */
  source: string;
  /** The item. */
  item: T;
  /** The sampler step that chose it. */
  step: number;
}

/**
 * Interleaves sources in the proportions a {@link MixtureSampler} draws. A source given as a
 * function is restarted when it runs out (another epoch of it); the stream ends when a source
 * given as a plain iterable runs out, or after `limit` items.
 *
 * @param inputs - items by source name; every name of the sampler must be present.
 * @param sampler - chooses the source of each item.
 * @param limit - most items to yield (default: no limit).
 * @returns the mixed items.
 */
export async function* mixSources<T>(
  inputs: Readonly<Record<string, MixtureInput<T>>>,
  sampler: MixtureSampler,
  limit = Infinity,
): AsyncGenerator<MixedItem<T>> {
  const names = sampler.state().sources;
  for (const name of names) {
    if (!(name in inputs)) {
      throw new TypeError(
        `mixSources: inputs has no source ${JSON.stringify(name)}; expected one entry per sampler source (${names.join(', ')})`,
      );
    }
  }
  const iterators = new Map<string, Iterator<T> | AsyncIterator<T>>();
  const start = (name: string): Iterator<T> | AsyncIterator<T> => {
    const input = inputs[name]!;
    const iterable = typeof input === 'function' ? input() : input;
    const it =
      Symbol.asyncIterator in iterable
        ? (iterable as AsyncIterable<T>)[Symbol.asyncIterator]()
        : (iterable as Iterable<T>)[Symbol.iterator]();
    iterators.set(name, it);
    return it;
  };
  try {
    for (let n = 0; n < limit; n++) {
      const draw = sampler.next();
      let it = iterators.get(draw.source) ?? start(draw.source);
      let result = await it.next();
      if (result.done && typeof inputs[draw.source] === 'function') {
        it = start(draw.source);
        result = await it.next();
      }
      if (result.done) return;
      yield { source: draw.source, item: result.value, step: draw.step };
    }
  } finally {
    for (const it of iterators.values()) await it.return?.();
  }
}
