/** Reading a config from YAML or JSON, applying `--set` overrides, and validating it. */
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { ConfigError, issuesFromZod } from './errors.js';
import { type TrainConfig, trainConfigSchema } from './schema.js';

/** Parses config text: JSON when `format` is `json`, YAML otherwise (YAML also reads JSON). */
export function parseConfigText(text: string, source: string, format: 'yaml' | 'json'): unknown {
  if (format === 'json') {
    try {
      return JSON.parse(text) as unknown;
    } catch (error) {
      throw new ConfigError(source, [
        { path: '', message: `not valid JSON: ${(error as Error).message}` },
      ]);
    }
  }
  try {
    return parseYaml(text, { prettyErrors: true }) as unknown;
  } catch (error) {
    if (error instanceof YAMLParseError)
      throw new ConfigError(source, [{ path: '', message: `not valid YAML: ${error.message}` }]);
    throw error;
  }
}

/** Reads a `.yaml`, `.yml` or `.json` file into plain data (not yet validated). */
export async function readConfigFile(path: string): Promise<unknown> {
  const ext = extname(path).toLowerCase();
  if (!['.yaml', '.yml', '.json'].includes(ext))
    throw new ConfigError(path, [
      { path: '', message: `has extension '${ext}'; expected .yaml, .yml or .json` },
    ]);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ConfigError(path, [
      { path: '', message: `cannot be read: ${(error as Error).message}` },
    ]);
  }
  return parseConfigText(text, path, ext === '.json' ? 'json' : 'yaml');
}

/**
 * Validates plain data against the schema and fills defaults.
 * @throws {@link ConfigError} listing every bad field with its path and the reason.
 */
export function validateConfig(raw: unknown, source = 'config'): TrainConfig {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
    throw new ConfigError(source, [
      {
        path: '',
        message: `is ${raw === null ? 'null' : Array.isArray(raw) ? 'a list' : typeof raw}; expected a mapping of fields`,
      },
    ]);
  const result = trainConfigSchema.safeParse(raw, { reportInput: true });
  if (!result.success) throw new ConfigError(source, issuesFromZod(result.error));
  return result.data;
}

/** Reads and validates a config file. */
export async function loadConfig(
  path: string,
  overrides: readonly string[] = [],
): Promise<TrainConfig> {
  const raw = await readConfigFile(path);
  return validateConfig(applyOverrides(raw, overrides.map(parseOverride)), path);
}

/** One `path=value` override (the value is read as YAML: `0.01`, `true`, `[1, 2]`, `text`). */
export interface ConfigOverride {
  path: string;
  value: unknown;
}

/** Parses `optimizer.lr=0.003` into a {@link ConfigOverride}. */
export function parseOverride(text: string): ConfigOverride {
  const eq = text.indexOf('=');
  if (eq <= 0)
    throw new ConfigError('--set', [
      { path: '', message: `got '${text}'; expected field.path=value (e.g. optimizer.lr=0.003)` },
    ]);
  return { path: text.slice(0, eq).trim(), value: parseYaml(text.slice(eq + 1)) as unknown };
}

/** A deep copy of `raw` with each override's field set (missing objects on the way are created). */
export function applyOverrides(raw: unknown, overrides: readonly ConfigOverride[]): unknown {
  const root = structuredClone(raw) as Record<string, unknown>;
  for (const { path, value } of overrides) {
    const parts = path.split('.');
    if (parts.some((p) => p.length === 0))
      throw new ConfigError('--set', [{ path, message: 'is not a dotted field path' }]);
    let node: Record<string, unknown> = root;
    for (const part of parts.slice(0, -1)) {
      const next = node[part];
      if (next === undefined) node[part] = {};
      else if (next === null || typeof next !== 'object' || Array.isArray(next))
        throw new ConfigError('--set', [
          {
            path,
            message: `cannot set a field inside '${part}', which is ${JSON.stringify(next)}`,
          },
        ]);
      node = node[part] as Record<string, unknown>;
    }
    node[parts.at(-1)!] = value;
  }
  return root;
}
