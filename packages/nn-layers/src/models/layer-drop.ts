/**
 * LayerDrop's draws: a uniform in [0, 1) from (seed, step, layer) through a
 * counter-based hash (two rounds of the splitmix32 finaliser), so the same seed
 * and step give the same skipped layers on every run and after a resume.
 */
function mix(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

/** The uniform draw deciding whether `layer` is skipped at training step `step`. */
export function layerDropDraw(seed: number, step: number, layer: number): number {
  const h = mix(mix(mix(seed >>> 0) ^ (step >>> 0)) ^ Math.imul(layer + 1, 0x9e3779b9));
  return h / 4294967296;
}
