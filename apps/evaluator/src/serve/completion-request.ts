/**
 * Validation of `POST /v1/completions` bodies, shaped like OpenAI's completions API. Errors say
 * which field is wrong, what it was, and what is allowed.
 */
import { z } from 'zod';

/** Limits the service enforces on each request. */
export interface CompletionLimits {
  /** Longest prompt in tokens. */
  maxPromptTokens: number;
  /** Largest max_tokens. */
  maxTokens: number;
  /** The model's context: prompt tokens + max_tokens must fit. */
  contextLength: number;
}

/** A validated request. */
export interface CompletionRequest {
  model?: string;
  prompt: string;
  max_tokens: number;
  temperature: number;
  top_p: number;
  stop: string[];
  stream: boolean;
  seed: number;
  user?: string;
}

const UNSUPPORTED = [
  'suffix',
  'logprobs',
  'echo',
  'best_of',
  'logit_bias',
  'presence_penalty',
  'frequency_penalty',
];

function schema(limits: CompletionLimits) {
  return z
    .object({
      model: z.string().optional(),
      prompt: z.string({ error: 'must be a string' }),
      max_tokens: z
        .number({ error: 'must be an integer' })
        .int({ error: 'must be an integer' })
        .min(1, { error: 'must be >= 1' })
        .max(limits.maxTokens, { error: `must be <= ${limits.maxTokens}` })
        .default(16),
      temperature: z
        .number({ error: 'must be a number' })
        .min(0, { error: 'must be >= 0' })
        .max(2, { error: 'must be <= 2' })
        .default(1),
      top_p: z
        .number({ error: 'must be a number' })
        .gt(0, { error: 'must be > 0' })
        .max(1, { error: 'must be <= 1' })
        .default(1),
      stop: z
        .union([z.string().min(1), z.array(z.string().min(1)).max(4)], {
          error: 'must be a non-empty string or an array of at most 4 non-empty strings',
        })
        .nullable()
        .optional(),
      stream: z.boolean({ error: 'must be a boolean' }).default(false),
      seed: z
        .number({ error: 'must be an integer' })
        .int({ error: 'must be an integer' })
        .min(0, { error: 'must be >= 0' })
        .max(Number.MAX_SAFE_INTEGER)
        .default(0),
      n: z.literal(1, { error: 'only n = 1 is supported' }).optional(),
      user: z.string().optional(),
    })
    .passthrough();
}

/** A request that cannot be served: HTTP status and a message for `error.message`. */
export class RequestError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly param: string | null = null,
  ) {
    super(message);
  }
}

/**
 * Checks a parsed JSON body.
 *
 * @param body - the parsed JSON.
 * @param limits - the service's limits.
 * @throws RequestError (400) naming the first bad field.
 */
export function parseCompletionRequest(body: unknown, limits: CompletionLimits): CompletionRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new RequestError(
      400,
      `request body is ${Array.isArray(body) ? 'an array' : JSON.stringify(body)}; expected a JSON object`,
    );
  }
  for (const key of UNSUPPORTED) {
    if (key in body && (body as Record<string, unknown>)[key] !== null)
      throw new RequestError(400, `'${key}' is not supported by this service`, key);
  }
  const parsed = schema(limits).safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = issue.path.join('.') || '(body)';
    const got = issue.path.reduce<unknown>(
      (v, k) =>
        typeof v === 'object' && v !== null
          ? (v as Record<string, unknown>)[k as string]
          : undefined,
      body,
    );
    throw new RequestError(
      400,
      `'${field}' ${issue.message}; got ${got === undefined ? 'nothing' : JSON.stringify(got)}`,
      field,
    );
  }
  const d = parsed.data;
  return {
    ...(d.model === undefined ? {} : { model: d.model }),
    prompt: d.prompt,
    max_tokens: d.max_tokens,
    temperature: d.temperature,
    top_p: d.top_p,
    stop: d.stop == null ? [] : typeof d.stop === 'string' ? [d.stop] : d.stop,
    stream: d.stream,
    seed: d.seed,
    ...(d.user === undefined ? {} : { user: d.user }),
  };
}
