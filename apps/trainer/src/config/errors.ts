/** Config errors that name the bad field's path and the reason. */
import type { z } from 'zod';

/** One problem with a config: the dotted path of the field and what is wrong with it. */
export interface ConfigIssue {
  /** Dotted path (`model.hiddenSize`, `data.genres.1`); empty for the whole document. */
  path: string;
  /** What is wrong, and what was expected. */
  message: string;
}

/** A config that failed validation; `issues` lists every problem found. */
export class ConfigError extends Error {
  constructor(
    /** Where the config came from (a file path, or a description). */
    readonly source: string,
    /** Every problem, in document order. */
    readonly issues: readonly ConfigIssue[],
  ) {
    super(
      `${source}: invalid config (${issues.length} problem${issues.length === 1 ? '' : 's'}):\n` +
        issues.map((i) => `  - ${i.path || '(root)'}: ${i.message}`).join('\n'),
    );
    this.name = 'ConfigError';
  }
}

/** Turns zod's issues into {@link ConfigIssue}s; an unknown key gets its own path. */
export function issuesFromZod(error: z.ZodError): ConfigIssue[] {
  const out: ConfigIssue[] = [];
  for (const issue of error.issues) {
    const base = issue.path.map(String);
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys)
        out.push({ path: [...base, key].join('.'), message: 'unknown field (not in the schema)' });
      continue;
    }
    const got =
      'input' in issue && issue.code !== 'custom' ? `; got ${describeValue(issue.input)}` : '';
    out.push({ path: base.join('.'), message: `${issue.message}${got}` });
  }
  return out;
}

function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
