/**
 * The JSONL task format. An optional first line describes the task; every other line is one
 * example:
 *
 * ```jsonl
 * {"task": {"name": "my-task", "type": "classification", "delimiter": " "}}
 * {"id": "ex1", "context": "Review: great film.\nSentiment:", "choices": ["positive", "negative"], "label": 0}
 * ```
 *
 * Each choice is scored as the continuation `delimiter + choice` of `context`.
 * For `classification`, F1 is computed over the chosen choices' texts (the classes); for
 * `multiple_choice` over choice positions.
 */
import { z } from 'zod';

/** Task kinds: they differ only in what F1 is computed over. */
export type TaskType = 'multiple_choice' | 'classification';

const headerSchema = z
  .object({
    task: z
      .object({
        name: z.string().min(1),
        type: z.enum(['multiple_choice', 'classification']).default('multiple_choice'),
        delimiter: z.string().default(' '),
        description: z.string().optional(),
      })
      .strict(),
  })
  .strict();

const exampleSchema = z
  .object({
    id: z.string().optional(),
    context: z.string(),
    choices: z.array(z.string().min(1)).min(2),
    label: z.number().int().nonnegative(),
  })
  .strict()
  .refine((e) => e.label < e.choices.length, {
    message: 'label must index into choices',
    path: ['label'],
  });

/** One example: a context, its choices, and the index of the right one. */
export interface TaskExample {
  id: string;
  context: string;
  choices: string[];
  label: number;
}

/** A task: its examples and how to score them. */
export interface EvalTask {
  name: string;
  type: TaskType;
  /** Put between the context and each choice (default a space, as lm-evaluation-harness). */
  delimiter: string;
  description?: string;
  examples: TaskExample[];
}

function issueText(error: z.ZodError): string {
  return error.issues
    .map((i) => `${i.path.length ? i.path.join('.') : '(line)'}: ${i.message}`)
    .join('; ');
}

/**
 * Parses a JSONL task.
 *
 * @param text - the file's content.
 * @param source - the file name, for error messages (and the default task name).
 * @throws Error naming the line and field that is wrong.
 */
export function parseTaskJsonl(text: string, source: string): EvalTask {
  const task: EvalTask = { name: source, type: 'multiple_choice', delimiter: ' ', examples: [] };
  const lines = text.split('\n');
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (line.length === 0) return;
    const where = `${source}:${i + 1}`;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      throw new Error(`${where}: not valid JSON (${(error as Error).message})`, { cause: error });
    }
    if (typeof value === 'object' && value !== null && 'task' in value) {
      if (task.examples.length > 0)
        throw new Error(`${where}: the task header must be the first line`);
      const h = headerSchema.safeParse(value);
      if (!h.success) throw new Error(`${where}: bad task header: ${issueText(h.error)}`);
      task.name = h.data.task.name;
      task.type = h.data.task.type;
      task.delimiter = h.data.task.delimiter;
      if (h.data.task.description !== undefined) task.description = h.data.task.description;
      return;
    }
    const e = exampleSchema.safeParse(value);
    if (!e.success)
      throw new Error(
        `${where}: bad example: ${issueText(e.error)}; expected {"context": string, "choices": [string, string, ...], "label": index}`,
      );
    task.examples.push({ ...e.data, id: e.data.id ?? `${source}:${i + 1}` });
  });
  if (task.examples.length === 0) throw new Error(`${source}: the task has no examples`);
  return task;
}

/** Writes a task as JSONL (header line first). */
export function formatTaskJsonl(task: EvalTask): string {
  const header = {
    task: {
      name: task.name,
      type: task.type,
      delimiter: task.delimiter,
      ...(task.description === undefined ? {} : { description: task.description }),
    },
  };
  return [header, ...task.examples].map((v) => JSON.stringify(v)).join('\n') + '\n';
}
