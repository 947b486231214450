/**
 * The register-blocked matmul kernel without workgroup memory or barriers.
 *
 * Each invocation owns an RM × (4·CN) block of C: RM rows, CN vec4 columns. Over K it
 * reads B a row at a time as vec4s along N (neighbouring invocations read neighbouring
 * vec4s) and A either as vec4s along K (row-major A), vec4s along M (a transposed A, the
 * `Aᵀ·dC` products of backward), or one value at a time (any other strides); the block
 * is updated as outer products with f32 `fma`. On a CPU adapter such as lavapipe, which
 * runs invocations as SIMD lanes and turns every barrier into a costly thread switch,
 * this beats the shared-memory tiles several times; the tile shape (RM, CN, workgroup)
 * is a parameter the tuner picks per adapter (matmul-tuner.ts).
 *
 * f16 and bf16 operands are read two values per u32 word and widened in registers
 * (`unpack2x16float` for f16, a shift for bf16), so half inputs accumulate in f32
 * without the `shader-f16` feature. An optional epilogue adds a bias along N and applies
 * an activation from the elementwise table before the store, writing the
 * pre-activation too where backward needs it.
 */
import type { TensorView } from '../../backend.js';
import type { DType } from '../../dtype.js';
import { UNARY, WGSL_HELPERS } from '../../ops/elementwise-table.js';
import { broadcastStrides, sizeOf } from '../../shape.js';
import type { GpuStorage, WebGpuBackend } from './webgpu-backend.js';
import { WGSL_DTYPE_HELPERS, loadExpr, storageType } from './wgsl-dtype.js';

/** One tile configuration of the direct kernel. */
export interface DirectTile {
  /** Rows per invocation (a multiple of 4 when A is read along M). */
  rm: number;
  /** vec4 columns per invocation. */
  cn: number;
  /** Workgroup size along N (vec4 column groups) and along M (row groups). */
  wgx: number;
  wgy: number;
  /**
   * Share A's values through subgroup broadcasts: each lane of a subgroup loads one row's
   * values and every lane reads them from there, so A costs RM/8 loads per K-step instead
   * of RM (loads dominate on lavapipe). Needs the `subgroups` feature, subgroups of at
   * least 8 lanes, a multiple of 8 for rm, and wgy = 1 (all lanes of a workgroup share rows).
   */
  subgroup?: boolean;
}

/** How A is read: vec4 along K, vec4 along M, or scalars through arbitrary strides. */
export type AMode = 'vk' | 'vm' | 's';

/** Epilogue of the direct kernel: bias along N and/or an activation from the unary table. */
export interface Epilogue {
  bias: TensorView | null;
  activation: string | null;
  /** A second output that receives the pre-activation values (for backward). */
  preActivation: TensorView | null;
}

const WIDE = new Set<DType>(['f32', 'f16', 'bf16']);

function alignedTo4(...values: number[]): boolean {
  return values.every((v) => v % 4 === 0);
}

/** Batch strides of an operand broadcast to the output's batch dims. */
export function batchStridesOf(v: TensorView, batch: readonly number[]): number[] {
  const r = v.shape.length;
  return broadcastStrides(v.shape.slice(0, r - 2), v.strides.slice(0, r - 2), batch);
}

/**
 * The way the direct kernel reads A, or null when B (or the output) does not suit it:
 * B must be unit-stride along N with every other stride and its offset a multiple of 4,
 * N a multiple of 4, and 32-bit outputs.
 */
export function directPlan(
  a: TensorView,
  b: TensorView,
  out: TensorView,
  batch: readonly number[],
): AMode | null {
  if (!WIDE.has(a.dtype) || !WIDE.has(b.dtype) || out.dtype !== 'f32') return null;
  const rank = out.shape.length;
  const [m, n] = [out.shape[rank - 2]!, out.shape[rank - 1]!];
  const k = a.shape[a.shape.length - 1]!;
  if (n % 4 !== 0 || k === 0) return null;
  const [brs, bcs] = b.strides.slice(-2) as [number, number];
  if (bcs !== 1 || !alignedTo4(brs, b.offset, ...batchStridesOf(b, batch))) return null;
  const [ars, acs] = a.strides.slice(-2) as [number, number];
  const aBatch = batchStridesOf(a, batch);
  if ((acs === 1 || k === 1) && k % 4 === 0 && alignedTo4(ars, a.offset, ...aBatch)) return 'vk';
  if ((ars === 1 || m === 1) && m % 4 === 0 && alignedTo4(acs, a.offset, ...aBatch)) return 'vm';
  return 's';
}

/** WGSL reading vec4 number `i` of a binding of `dtype` declared by {@link vecBinding}. */
function vecLoad(name: string, dtype: DType, i: string): string {
  if (dtype === 'f32') return `${name}[${i}]`;
  if (dtype === 'f16') return `fathom_h4(${name}[${i}])`;
  return `fathom_b4(${name}[${i}])`;
}

function vecType(dtype: DType): string {
  return dtype === 'f32' ? 'vec4<f32>' : 'vec2<u32>';
}

const HALF_VEC_HELPERS = /* wgsl */ `
fn fathom_h4(w: vec2<u32>) -> vec4<f32> { return vec4<f32>(unpack2x16float(w.x), unpack2x16float(w.y)); }
fn fathom_b4(w: vec2<u32>) -> vec4<f32> {
  return vec4<f32>(bitcast<f32>(w.x << 16u), bitcast<f32>(w.x & 0xffff0000u),
                   bitcast<f32>(w.y << 16u), bitcast<f32>(w.y & 0xffff0000u));
}
`;

const COMP = ['x', 'y', 'z', 'w'];

/** The WGSL of one specialisation. */
export function directShader(
  aDtype: DType,
  bDtype: DType,
  mode: AMode,
  tile: DirectTile,
  bv: number,
  epi: { biasDtype: DType | null; activation: string | null; preActivation: boolean },
): string {
  const { rm, cn, wgx, wgy } = tile;
  if (mode === 'vm' && rm % 4 !== 0) throw new Error(`internal: vm mode needs rm % 4 == 0`);
  const aDecl = mode === 's' ? `array<${storageType(aDtype)}>` : `array<${vecType(aDtype)}>`;
  const accs: string[] = [];
  for (let r = 0; r < rm; r++)
    for (let c = 0; c < cn; c++) accs.push(`var acc${r}_${c} = vec4<f32>();`);
  // A value of row r at k-step kk (0..3) inside the current 4-step.
  const sg = tile.subgroup === true;
  if (sg && (rm % 8 !== 0 || wgy !== 1 || mode === 'vm'))
    throw new Error(`internal: subgroup tiles need rm % 8 == 0, wgy == 1 and mode vk or s`);
  const aAt = (r: number, kk: number): string => {
    if (sg) return `a${r}.${COMP[kk]}`;
    if (mode === 'vk') return `a${r}.${COMP[kk]}`;
    if (mode === 'vm') return `a${kk}_${r >> 2}.${COMP[r & 3]}`;
    return `a${r}_${kk}`;
  };
  const aLoads4: string[] = [];
  if (sg) {
    // Lane l holds row (8j + l % 8) of load j; row r comes from lane r % 8 of load r / 8.
    for (let j = 0; j < rm / 8; j++) {
      const row = `aLane${j}`;
      aLoads4.push(
        mode === 'vk'
          ? `let al${j} = ${vecLoad('a', aDtype, `(${row} + k) >> 2u`)};`
          : `let al${j} = vec4<f32>(${[0, 1, 2, 3].map((kk) => loadExpr('a', aDtype, `${row} + (k + ${kk}u) * p.acs`)).join(', ')});`,
      );
    }
    for (let r = 0; r < rm; r++)
      aLoads4.push(`let a${r} = subgroupBroadcast(al${r >> 3}, ${r & 7}u);`);
  } else if (mode === 'vk') {
    for (let r = 0; r < rm; r++)
      aLoads4.push(`let a${r} = ${vecLoad('a', aDtype, `(aRow${r} + k) >> 2u`)};`);
  } else if (mode === 'vm') {
    for (let kk = 0; kk < 4; kk++)
      for (let q = 0; q < rm / 4; q++)
        aLoads4.push(
          `let a${kk}_${q} = ${vecLoad('a', aDtype, `(aBase + (k + ${kk}u) * p.acs + row0 + ${4 * q}u) >> 2u`)};`,
        );
  } else {
    for (let r = 0; r < rm; r++)
      for (let kk = 0; kk < 4; kk++)
        aLoads4.push(
          `let a${r}_${kk} = ${loadExpr('a', aDtype, `aRow${r} + (k + ${kk}u) * p.acs`)};`,
        );
  }
  const bLoads = (steps: number, kExpr: (kk: number) => string): string[] => {
    const out: string[] = [];
    for (let kk = 0; kk < steps; kk++)
      for (let c = 0; c < cn; c++)
        out.push(
          `let b${kk}_${c} = ${vecLoad('b', bDtype, `((bBase + ${kExpr(kk)} * p.brs) >> 2u) + col${c}`)};`,
        );
    return out;
  };
  const fmas = (steps: number, at: (r: number, kk: number) => string): string[] => {
    const out: string[] = [];
    for (let kk = 0; kk < steps; kk++)
      for (let r = 0; r < rm; r++)
        for (let c = 0; c < cn; c++)
          out.push(`acc${r}_${c} = fma(vec4<f32>(${at(r, kk)}), b${kk}_${c}, acc${r}_${c});`);
    return out;
  };
  // Tail (K % 4 steps), only in scalar mode (vector modes require K % 4 == 0).
  const tailA: string[] = [];
  if (mode === 's' && sg) {
    for (let j = 0; j < rm / 8; j++)
      tailA.push(`let tl${j} = ${loadExpr('a', aDtype, `aLane${j} + k * p.acs`)};`);
    for (let r = 0; r < rm; r++)
      tailA.push(`let t${r} = subgroupBroadcast(tl${r >> 3}, ${r & 7}u);`);
  } else if (mode === 's')
    for (let r = 0; r < rm; r++)
      tailA.push(`let t${r} = ${loadExpr('a', aDtype, `aRow${r} + k * p.acs`)};`);
  const rowSetup: string[] = [];
  if (sg)
    for (let j = 0; j < rm / 8; j++)
      rowSetup.push(`let aLane${j} = aBase + min(row0 + ${8 * j}u + (sl & 7u), p.m - 1u) * p.ars;`);
  else
    for (let r = 0; r < rm; r++)
      rowSetup.push(
        mode === 'vm' ? '' : `let aRow${r} = aBase + min(row0 + ${r}u, p.m - 1u) * p.ars;`,
      );
  const colSetup: string[] = [];
  for (let c = 0; c < cn; c++) colSetup.push(`let col${c} = min(colv0 + ${c}u, p.n4 - 1u);`);
  const act = epi.activation ? UNARY[epi.activation] : null;
  if (epi.activation && !act?.dwgsl)
    throw new Error(`internal: activation ${epi.activation} has no derivative`);
  const stores: string[] = [];
  for (let r = 0; r < rm; r++) {
    const guards: string[] = [];
    for (let c = 0; c < cn; c++) {
      const lines = [`var v = acc${r}_${c};`];
      if (epi.biasDtype)
        lines.push(
          `v = v + ${vecLoad('bias', epi.biasDtype, `(p.biasOff >> 2u) + colv0 + ${c}u`)};`,
        );
      const at = `outRow + colv0 + ${c}u`;
      if (epi.preActivation) lines.push(`pre[${at}] = v;`);
      if (act)
        lines.push(
          `v = vec4<f32>(fathom_act(v.x), fathom_act(v.y), fathom_act(v.z), fathom_act(v.w));`,
        );
      lines.push(`out[${at}] = v;`);
      guards.push(`if (colv0 + ${c}u < p.n4) { ${lines.join(' ')} }`);
    }
    stores.push(
      `if (row0 + ${r}u < p.m) { let outRow = outBase + (row0 + ${r}u) * p.n4; ${guards.join('\n    ')} }`,
    );
  }
  let binding = 0;
  const decls = [
    `@group(0) @binding(${binding++}) var<storage, read> a: ${aDecl};`,
    `@group(0) @binding(${binding++}) var<storage, read> b: array<${vecType(bDtype)}>;`,
  ];
  if (epi.biasDtype)
    decls.push(
      `@group(0) @binding(${binding++}) var<storage, read> bias: array<${vecType(epi.biasDtype)}>;`,
    );
  decls.push(`@group(0) @binding(${binding++}) var<storage, read_write> out: array<vec4<f32>>;`);
  if (epi.preActivation)
    decls.push(`@group(0) @binding(${binding++}) var<storage, read_write> pre: array<vec4<f32>>;`);
  decls.push(`@group(0) @binding(${binding}) var<uniform> p: Params;`);
  return `${sg ? 'enable subgroups;' : ''}
${WGSL_DTYPE_HELPERS}
${HALF_VEC_HELPERS}
${act ? `${WGSL_HELPERS}\nfn fathom_act(x: f32) -> f32 { return ${act.wgsl}; }` : ''}
struct Params {
  m: u32, n4: u32, k: u32, batch: u32,
  aOff: u32, ars: u32, acs: u32, bOff: u32,
  brs: u32, biasOff: u32, batchRank: u32, foldY: u32,
  tilesY: u32, pad0: u32, pad1: u32, pad2: u32,
  shape: array<vec4<u32>, ${bv}>,
  aStride: array<vec4<u32>, ${bv}>,
  bStride: array<vec4<u32>, ${bv}>,
}
${decls.join('\n')}

@compute @workgroup_size(${wgx}, ${wgy})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>,
        @builtin(local_invocation_id) lid: vec3<u32>${sg ? ', @builtin(subgroup_invocation_id) sl: u32' : ''}) {
  let batch = wid.z * p.foldY + wid.y / p.tilesY;
  if (batch >= p.batch) { return; }
  let row0 = ((wid.y % p.tilesY) * ${wgy}u + lid.y) * ${rm}u;
  let colv0 = gid.x * ${cn}u;
  ${sg ? '' : 'if (row0 >= p.m || colv0 >= p.n4) { return; }'}
  var aBase = p.aOff;
  var bBase = p.bOff;
  var rem = batch;
  for (var d = i32(p.batchRank) - 1; d >= 0; d = d - 1) {
    let dim = p.shape[d >> 2u][d & 3];
    let c = rem % dim;
    rem = rem / dim;
    aBase = aBase + c * p.aStride[d >> 2u][d & 3];
    bBase = bBase + c * p.bStride[d >> 2u][d & 3];
  }
  ${rowSetup.filter(Boolean).join('\n  ')}
  ${colSetup.join('\n  ')}
  ${accs.join(' ')}
  let k4 = p.k & ~3u;
  var k = 0u;
  for (; k < k4; k = k + 4u) {
    ${aLoads4.join('\n    ')}
    ${bLoads(4, (kk) => `(k + ${kk}u)`).join('\n    ')}
    ${fmas(4, aAt).join('\n    ')}
  }
  ${
    mode === 's'
      ? `for (; k < p.k; k = k + 1u) {
    ${tailA.join('\n    ')}
    ${bLoads(1, () => 'k').join('\n    ')}
    ${fmas(1, (r) => `t${r}`).join('\n    ')}
  }`
      : ''
  }
  let outBase = batch * p.m * p.n4;
  ${stores.join('\n  ')}
}
`;
}

/** Encodes the direct kernel for `out = epilogue(a · b)` (see the module comment for the layouts). */
export function dispatchDirect(
  backend: WebGpuBackend,
  a: TensorView,
  b: TensorView,
  out: TensorView,
  mode: AMode,
  tile: DirectTile,
  epi: Epilogue = { bias: null, activation: null, preActivation: null },
): void {
  const rank = out.shape.length;
  const batchShape = out.shape.slice(0, rank - 2);
  const [m, n] = [out.shape[rank - 2]!, out.shape[rank - 1]!];
  const k = a.shape[a.shape.length - 1]!;
  const batch = sizeOf(batchShape);
  if (m === 0 || n === 0 || batch === 0) return;
  const sg = tile.subgroup === true && backend.context.summary.subgroups;
  // Subgroup tiles read a transposed A one value at a time (lanes own rows, not K-runs).
  if (sg && mode === 'vm') mode = 's';
  const effective: DirectTile = sg
    ? { ...tile, rm: Math.max(8, tile.rm - (tile.rm % 8)), wgy: 1 }
    : { ...tile, subgroup: false, rm: mode === 'vm' && tile.rm % 4 !== 0 ? 4 : tile.rm };
  const { rm, cn, wgx, wgy } = effective;
  const [ars, acs] = a.strides.slice(-2) as [number, number];
  const brs = b.strides[b.strides.length - 2]!;
  const batchRank = batchShape.length;
  const bv = Math.max(1, Math.ceil(batchRank / 4));
  const maxDim = backend.limits.maxComputeWorkgroupsPerDimension;
  const n4 = n / 4;
  const tilesX = Math.ceil(n4 / cn / wgx);
  const tilesY = Math.ceil(m / rm / wgy);
  const foldY = Math.max(1, Math.ceil(batch / maxDim));
  const gridZ = Math.ceil(batch / foldY);
  if (tilesX > maxDim || tilesY * foldY > maxDim) {
    throw new RangeError(
      `matmul: output [${out.shape.join(',')}] needs a grid of ${tilesX}×${tilesY * foldY} workgroups; this adapter allows ${maxDim} per dimension`,
    );
  }
  const words = new Uint32Array(16 + 3 * bv * 4);
  // K-steps of vector modes are in vec4 units of A: strides stay in elements, shifted in WGSL.
  words.set([
    m,
    n4,
    k,
    batch,
    a.offset,
    ars,
    acs,
    b.offset,
    brs,
    epi.bias?.offset ?? 0,
    batchRank,
    foldY,
    tilesY,
  ]);
  const as = batchStridesOf(a, batchShape);
  const bs = batchStridesOf(b, batchShape);
  batchShape.forEach((d, i) => {
    words[16 + i] = d;
    words[16 + bv * 4 + i] = as[i]!;
    words[16 + 2 * bv * 4 + i] = bs[i]!;
  });
  const code = directShader(a.dtype, b.dtype, mode, effective, bv, {
    biasDtype: epi.bias?.dtype ?? null,
    activation: epi.activation,
    preActivation: epi.preActivation !== null,
  });
  const buf = (v: TensorView): GPUBuffer => (v.handle as GpuStorage).buffer;
  const buffers = [buf(a), buf(b)];
  if (epi.bias) buffers.push(buf(epi.bias));
  buffers.push(buf(out));
  if (epi.preActivation) buffers.push(buf(epi.preActivation));
  backend.dispatch({
    pipeline: backend.pipeline(code),
    buffers,
    params: words.buffer,
    grid: [tilesX, tilesY * foldY, gridZ],
  });
}
