/** The causal LM's configuration and its mapping to Hugging Face's `config.json` (LlamaConfig names). */

/** Every field that shapes a {@link CausalLm}. */
export interface CausalLmConfig {
  vocabSize: number;
  hiddenSize: number;
  intermediateSize: number;
  numLayers: number;
  numHeads: number;
  /** Grouped-query attention when smaller than numHeads (must divide it). Default numHeads. */
  numKvHeads?: number;
  maxPositionEmbeddings: number;
  ropeTheta?: number;
  normEps?: number;
  /** Share the embedding matrix with the LM head (default false, as LLaMA). */
  tieWordEmbeddings?: boolean;
  mlp?: 'swiglu' | 'gelu';
  norm?: 'rms' | 'layer';
  initializerRange?: number;
  attentionDropout?: number;
  /** Dropout on the residual branches' outputs and embeddings (default 0). */
  hiddenDropout?: number;
  /** Probability of skipping each block during training (per layer, or one value for all). Default 0. */
  layerDrop?: number | number[];
  /**
   * Cross-layer parameter sharing: one group id per layer; layers with the same id share
   * one block's parameters. Default: every layer independent. See {@link sharingGroups}.
   */
  layerGroups?: number[];
  /** Seed of the initial weights, dropout and LayerDrop streams. */
  seed?: number;
}

/** Fills defaults and checks consistency; errors name the field. */
export function resolveConfig(
  config: CausalLmConfig,
): Required<Omit<CausalLmConfig, 'layerGroups'>> & { layerGroups: number[] } {
  const positive = [
    'vocabSize',
    'hiddenSize',
    'intermediateSize',
    'numLayers',
    'numHeads',
    'maxPositionEmbeddings',
  ] as const;
  for (const k of positive) {
    const v = config[k];
    if (!Number.isInteger(v) || v <= 0)
      throw new RangeError(`CausalLmConfig.${k} must be a positive integer; got ${v}`);
  }
  const numKvHeads = config.numKvHeads ?? config.numHeads;
  if (config.hiddenSize % config.numHeads !== 0)
    throw new RangeError(
      `CausalLmConfig.hiddenSize ${config.hiddenSize} must be divisible by numHeads ${config.numHeads}`,
    );
  if (config.numHeads % numKvHeads !== 0)
    throw new RangeError(
      `CausalLmConfig.numKvHeads ${numKvHeads} must divide numHeads ${config.numHeads}`,
    );
  if ((config.hiddenSize / config.numHeads) % 2 !== 0)
    throw new RangeError(
      `CausalLmConfig: head dim ${config.hiddenSize / config.numHeads} must be even for RoPE`,
    );
  const layerGroups = config.layerGroups ?? Array.from({ length: config.numLayers }, (_, i) => i);
  if (layerGroups.length !== config.numLayers)
    throw new RangeError(
      `CausalLmConfig.layerGroups has ${layerGroups.length} entries; expected numLayers = ${config.numLayers}`,
    );
  const layerDrop = config.layerDrop ?? 0;
  const drops = typeof layerDrop === 'number' ? [layerDrop] : layerDrop;
  if (Array.isArray(layerDrop) && layerDrop.length !== config.numLayers)
    throw new RangeError(
      `CausalLmConfig.layerDrop has ${layerDrop.length} entries; expected numLayers = ${config.numLayers}`,
    );
  if (drops.some((p) => !(p >= 0 && p < 1)))
    throw new RangeError(
      `CausalLmConfig.layerDrop values must be in [0, 1); got ${JSON.stringify(layerDrop)}`,
    );
  return {
    ...config,
    numKvHeads,
    ropeTheta: config.ropeTheta ?? 10000,
    normEps: config.normEps ?? (config.norm === 'layer' ? 1e-5 : 1e-6),
    tieWordEmbeddings: config.tieWordEmbeddings ?? false,
    mlp: config.mlp ?? 'swiglu',
    norm: config.norm ?? 'rms',
    initializerRange: config.initializerRange ?? 0.02,
    attentionDropout: config.attentionDropout ?? 0,
    hiddenDropout: config.hiddenDropout ?? 0,
    layerDrop,
    layerGroups,
    seed: config.seed ?? 0,
  };
}

/**
 * Builds layerGroups for the common plan "bottom layers fully shared, middle layers shared in
 * groups, top layers independent": e.g. `sharingGroups(24, { shared: 6, groupSize: 3, independent: 6 })`
 * gives layers 0–5 one group, 6–17 in groups of 3, 18–23 independent.
 */
export function sharingGroups(
  numLayers: number,
  plan: { shared: number; groupSize: number; independent: number },
): number[] {
  const middle = numLayers - plan.shared - plan.independent;
  if (plan.shared < 0 || plan.independent < 0 || middle < 0) {
    throw new RangeError(
      `sharingGroups: shared ${plan.shared} + independent ${plan.independent} exceed numLayers ${numLayers}`,
    );
  }
  if (plan.groupSize <= 0 || middle % plan.groupSize !== 0) {
    throw new RangeError(
      `sharingGroups: the ${middle} middle layers do not split into groups of ${plan.groupSize}`,
    );
  }
  const groups: number[] = [];
  let id = 0;
  for (let i = 0; i < plan.shared; i++) groups.push(id);
  if (plan.shared > 0) id++;
  for (let i = 0; i < middle; i++) {
    groups.push(id);
    if ((i + 1) % plan.groupSize === 0) id++;
  }
  for (let i = 0; i < plan.independent; i++) groups.push(id++);
  return groups;
}

/** Hugging Face `config.json` fields for a LLaMA-style model. */
export function toHfConfig(config: CausalLmConfig): Record<string, unknown> {
  const c = resolveConfig(config);
  return {
    architectures: ['LlamaForCausalLM'],
    model_type: 'llama',
    vocab_size: c.vocabSize,
    hidden_size: c.hiddenSize,
    intermediate_size: c.intermediateSize,
    num_hidden_layers: c.numLayers,
    num_attention_heads: c.numHeads,
    num_key_value_heads: c.numKvHeads,
    max_position_embeddings: c.maxPositionEmbeddings,
    rope_theta: c.ropeTheta,
    rms_norm_eps: c.normEps,
    tie_word_embeddings: c.tieWordEmbeddings,
    initializer_range: c.initializerRange,
    attention_dropout: c.attentionDropout,
    hidden_act: c.mlp === 'swiglu' ? 'silu' : 'gelu_pytorch_tanh',
    attention_bias: false,
    mlp_bias: c.mlp === 'gelu',
    torch_dtype: 'float32',
    // Fathom-only fields, ignored by transformers.
    fathom: {
      norm: c.norm,
      mlp: c.mlp,
      layer_groups: c.layerGroups,
      layer_drop: c.layerDrop,
      hidden_dropout: c.hiddenDropout,
      seed: c.seed,
    },
  };
}

/** Reads a Hugging Face LLaMA `config.json` (and Fathom's extra fields when present). */
export function fromHfConfig(hf: Record<string, unknown>): CausalLmConfig {
  const num = (key: string): number => {
    const v = hf[key];
    if (typeof v !== 'number')
      throw new TypeError(`config.json: '${key}' must be a number; got ${JSON.stringify(v)}`);
    return v;
  };
  const extra = (hf.fathom ?? {}) as {
    norm?: 'rms' | 'layer';
    mlp?: 'swiglu' | 'gelu';
    layer_groups?: number[];
    layer_drop?: number | number[];
    hidden_dropout?: number;
    seed?: number;
  };
  const act = hf.hidden_act;
  const config: CausalLmConfig = {
    vocabSize: num('vocab_size'),
    hiddenSize: num('hidden_size'),
    intermediateSize: num('intermediate_size'),
    numLayers: num('num_hidden_layers'),
    numHeads: num('num_attention_heads'),
    numKvHeads:
      typeof hf.num_key_value_heads === 'number'
        ? hf.num_key_value_heads
        : num('num_attention_heads'),
    maxPositionEmbeddings: num('max_position_embeddings'),
    ropeTheta: typeof hf.rope_theta === 'number' ? hf.rope_theta : 10000,
    normEps: typeof hf.rms_norm_eps === 'number' ? hf.rms_norm_eps : 1e-6,
    tieWordEmbeddings: hf.tie_word_embeddings === true,
    mlp: extra.mlp ?? (act === 'silu' || act === undefined ? 'swiglu' : 'gelu'),
    norm: extra.norm ?? 'rms',
    initializerRange: typeof hf.initializer_range === 'number' ? hf.initializer_range : 0.02,
    attentionDropout: typeof hf.attention_dropout === 'number' ? hf.attention_dropout : 0,
  };
  if (extra.layer_groups) config.layerGroups = extra.layer_groups;
  if (extra.layer_drop !== undefined) config.layerDrop = extra.layer_drop;
  if (extra.hidden_dropout !== undefined) config.hiddenDropout = extra.hidden_dropout;
  if (extra.seed !== undefined) config.seed = extra.seed;
  return config;
}
