/**
 * Grouped GEMM over the expert-sorted rows of a plan (see plan.ts). Expert
 * segments start on multiples of {@link TILE} rows, so each 16-row tile has
 * one expert, read on the device from `rowExpert`; the CPU never learns it.
 *
 * - `moe_grouped_matmul` (x [R,In], w [E,·,·], rowExpert [R]) → y [R,Out]:
 *   with `transB`, y[r] = x[r]·W[e]ᵀ for W[e] of shape [Out, In]; without,
 *   y[r] = x[r]·W[e] for W[e] of shape [In, Out]. Tiles of padding give 0.
 * - `moe_grouped_wgrad` (dy [R,Out], x [R,In], segments [2E]) → dW [E,Out,In]:
 *   dW[e] = Σ over the rows of e's tiles of dy[r]ᵀ·x[r] (padding rows included,
 *   as the forward multiplies them too; they are zero in a layer).
 */
import { registerKernel, type Backend, type WebGpuBackend } from '@fathom/tensor-core';
import {
  TILE,
  assertBindable,
  assertContiguous,
  assertDtypes,
  bufferOf,
  dataOf,
  foldGrid,
  floatStore,
  packUniforms,
  uniformStruct,
  type UniformField,
} from './util.js';

/** Op name of the grouped matmul. */
export const GROUPED_MATMUL = 'moe_grouped_matmul';
/** Op name of the grouped matmul's weight gradient. */
export const GROUPED_WGRAD = 'moe_grouped_wgrad';

/** Attributes of {@link GROUPED_MATMUL}. */
export interface GroupedMatmulAttrs {
  transB: boolean;
}

// Register-blocked and barrier-free: on CPU adapters such as lavapipe every
// workgroup barrier is a thread switch, so shared-memory tiles lose several
// times to blocks kept in registers (tensor-core's matmul makes the same choice).
// Each invocation owns a 4×4 block of outputs; 4-row blocks never straddle a
// 16-row tile, so a block has one expert.

/** Rows and columns of the output block of one invocation. */
const BLOCK = 4;
const GROUP = 64;

const FIELDS: readonly UniformField[] = [
  ['rows', 'u32'],
  ['inner', 'u32'],
  ['cols', 'u32'],
  ['transB', 'u32'],
  ['xOff', 'u32'],
  ['wOff', 'u32'],
  ['eOff', 'u32'],
  ['colBlocks', 'u32'],
  ['blocks', 'u32'],
];

/** How the kernel reads its operands: scalars, or vec4s along K (x·Wᵀ) or along N (x·W). */
type MatmulMode = 'scalar' | 'nt4' | 'nn4';

const STORE_BLOCK = /* wgsl */ `
  for (var i = 0u; i < 4u; i++) {
    let r = r0 + i;
    if (r >= u.rows) { break; }
    for (var j = 0u; j < 4u; j++) {
      if (c0 + j < u.cols) { y[r * u.cols + c0 + j] = acc[i][j]; }
    }
  }`;

function matmulBody(mode: MatmulMode): string {
  // Clamped indices keep loads in bounds; the store drops the extra lanes.
  const clamp = /* wgsl */ `
    let cl = vec4<u32>(min(c0, u.cols - 1u), min(c0 + 1u, u.cols - 1u), min(c0 + 2u, u.cols - 1u), min(c0 + 3u, u.cols - 1u));
    let rl = vec4<u32>(min(r0, u.rows - 1u), min(r0 + 1u, u.rows - 1u), min(r0 + 2u, u.rows - 1u), min(r0 + 3u, u.rows - 1u));`;
  if (mode === 'nt4')
    return /* wgsl */ `${clamp}
    let k4 = u.inner / 4u;
    let xb = vec4<u32>(rl * k4) + vec4<u32>(u.xOff / 4u);
    let wb = vec4<u32>(cl * k4) + vec4<u32>(wBase / 4u);
    for (var k = 0u; k < k4; k++) {
      let w0 = w[wb.x + k]; let w1 = w[wb.y + k]; let w2 = w[wb.z + k]; let w3 = w[wb.w + k];
      for (var i = 0u; i < 4u; i++) {
        let xv = x[xb[i] + k];
        acc[i] += vec4<f32>(dot(xv, w0), dot(xv, w1), dot(xv, w2), dot(xv, w3));
      }
    }`;
  if (mode === 'nn4')
    return /* wgsl */ `${clamp}
    let n4 = u.cols / 4u;
    for (var k = 0u; k < u.inner; k++) {
      let wv = w[(wBase / 4u) + k * n4 + c0 / 4u];
      acc[0] = fma(vec4<f32>(x[u.xOff + rl.x * u.inner + k]), wv, acc[0]);
      acc[1] = fma(vec4<f32>(x[u.xOff + rl.y * u.inner + k]), wv, acc[1]);
      acc[2] = fma(vec4<f32>(x[u.xOff + rl.z * u.inner + k]), wv, acc[2]);
      acc[3] = fma(vec4<f32>(x[u.xOff + rl.w * u.inner + k]), wv, acc[3]);
    }`;
  return /* wgsl */ `${clamp}
    for (var k = 0u; k < u.inner; k++) {
      var wv: vec4<f32>;
      if (u.transB == 1u) {
        wv = vec4<f32>(w[wBase + cl.x * u.inner + k], w[wBase + cl.y * u.inner + k],
                       w[wBase + cl.z * u.inner + k], w[wBase + cl.w * u.inner + k]);
      } else {
        let b = wBase + k * u.cols;
        wv = vec4<f32>(w[b + cl.x], w[b + cl.y], w[b + cl.z], w[b + cl.w]);
      }
      acc[0] = fma(vec4<f32>(x[u.xOff + rl.x * u.inner + k]), wv, acc[0]);
      acc[1] = fma(vec4<f32>(x[u.xOff + rl.y * u.inner + k]), wv, acc[1]);
      acc[2] = fma(vec4<f32>(x[u.xOff + rl.z * u.inner + k]), wv, acc[2]);
      acc[3] = fma(vec4<f32>(x[u.xOff + rl.w * u.inner + k]), wv, acc[3]);
    }`;
}

const matmulShader = (mode: MatmulMode): string => /* wgsl */ `
${uniformStruct('Params', FIELDS)}
@group(0) @binding(0) var<storage, read> x: array<${mode === 'nt4' ? 'vec4<f32>' : 'f32'}>;
@group(0) @binding(1) var<storage, read> w: array<${mode === 'scalar' ? 'f32' : 'vec4<f32>'}>;
@group(0) @binding(2) var<storage, read> rowExpert: array<i32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
@group(0) @binding(4) var<uniform> u: Params;

@compute @workgroup_size(${GROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let id = gid.x + gid.y * nw.x * ${GROUP}u;
  if (id >= u.blocks) { return; }
  let c0 = (id % u.colBlocks) * 4u;
  let r0 = (id / u.colBlocks) * 4u;
  let e = rowExpert[u.eOff + r0];
  var acc: array<vec4<f32>, 4>;
  if (e >= 0) {
    let wBase = u.wOff + u32(e) * u.inner * u.cols;
${matmulBody(mode)}
  }
${STORE_BLOCK}
}
`;

/** The fastest mode whose vector loads the shapes and offsets allow. */
function matmulMode(
  transB: boolean,
  inner: number,
  cols: number,
  xOff: number,
  wOff: number,
): MatmulMode {
  if (transB && inner % 4 === 0 && xOff % 4 === 0 && wOff % 4 === 0) return 'nt4';
  if (!transB && cols % 4 === 0 && wOff % 4 === 0) return 'nn4';
  return 'scalar';
}

const WGRAD_FIELDS: readonly UniformField[] = [
  ['outDim', 'u32'],
  ['inDim', 'u32'],
  ['dyOff', 'u32'],
  ['xOff', 'u32'],
  ['sOff', 'u32'],
  ['iBlocks', 'u32'],
  ['oBlocks', 'u32'],
  ['blocks', 'u32'],
];

const wgradShader = (vec: boolean): string => /* wgsl */ `
${uniformStruct('Params', WGRAD_FIELDS)}
@group(0) @binding(0) var<storage, read> dy: array<f32>;
@group(0) @binding(1) var<storage, read> x: array<${vec ? 'vec4<f32>' : 'f32'}>;
@group(0) @binding(2) var<storage, read> segments: array<i32>;
@group(0) @binding(3) var<storage, read_write> dw: array<f32>;
@group(0) @binding(4) var<uniform> u: Params;

@compute @workgroup_size(${GROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let id = gid.x + gid.y * nw.x * ${GROUP}u;
  if (id >= u.blocks) { return; }
  let i0 = (id % u.iBlocks) * 4u;
  let o0 = ((id / u.iBlocks) % u.oBlocks) * 4u;
  let e = id / (u.iBlocks * u.oBlocks);
  let start = u32(segments[u.sOff + 2u * e]);
  // Whole tiles: padding rows share their tile's expert in the forward.
  let len = ((u32(segments[u.sOff + 2u * e + 1u]) + ${TILE - 1}u) / ${TILE}u) * ${TILE}u;
  let il = vec4<u32>(min(i0, u.inDim - 1u), min(i0 + 1u, u.inDim - 1u), min(i0 + 2u, u.inDim - 1u), min(i0 + 3u, u.inDim - 1u));
  let ol = vec4<u32>(min(o0, u.outDim - 1u), min(o0 + 1u, u.outDim - 1u), min(o0 + 2u, u.outDim - 1u), min(o0 + 3u, u.outDim - 1u));
  var acc: array<vec4<f32>, 4>;
  for (var r = start; r < start + len; r++) {
${
  vec
    ? 'let xv = x[(u.xOff + r * u.inDim + i0) / 4u];'
    : `let xb = u.xOff + r * u.inDim;
    let xv = vec4<f32>(x[xb + il.x], x[xb + il.y], x[xb + il.z], x[xb + il.w]);`
}
    let db = u.dyOff + r * u.outDim;
    acc[0] = fma(vec4<f32>(dy[db + ol.x]), xv, acc[0]);
    acc[1] = fma(vec4<f32>(dy[db + ol.y]), xv, acc[1]);
    acc[2] = fma(vec4<f32>(dy[db + ol.z]), xv, acc[2]);
    acc[3] = fma(vec4<f32>(dy[db + ol.w]), xv, acc[3]);
  }
  for (var a = 0u; a < 4u; a++) {
    let o = o0 + a;
    if (o >= u.outDim) { break; }
    for (var b = 0u; b < 4u; b++) {
      if (i0 + b < u.inDim) { dw[(e * u.outDim + o) * u.inDim + i0 + b] = acc[a][b]; }
    }
  }
}
`;

/** Registers the WebGPU and reference kernels of the grouped matmul and its weight gradient. */
export function registerGroupedMatmulKernels(): void {
  registerKernel<WebGpuBackend, GroupedMatmulAttrs>(
    GROUPED_MATMUL,
    'webgpu',
    (b, [x, w, re], [y], a) => {
      assertDtypes(GROUPED_MATMUL, [x!, w!, re!], ['f32', 'f32', 'i32']);
      assertContiguous(GROUPED_MATMUL, [x!, w!, re!]);
      for (const [v, what] of [
        [x!, 'the rows'],
        [w!, 'the stacked weights'],
        [y!, 'the output'],
      ] as const)
        assertBindable(b, v, GROUPED_MATMUL, what);
      const [rows, inner] = x!.shape as [number, number];
      const cols = y!.shape[1]!;
      const colBlocks = Math.ceil(cols / BLOCK);
      const blocks = (rows / BLOCK) * colBlocks;
      if (blocks === 0 || inner === 0) return;
      b.dispatch({
        pipeline: b.pipeline(matmulShader(matmulMode(a.transB, inner, cols, x!.offset, w!.offset))),
        buffers: [x!, w!, re!, y!].map((v) => bufferOf(v, GROUPED_MATMUL)),
        params: packUniforms(FIELDS, {
          rows,
          inner,
          cols,
          transB: a.transB ? 1 : 0,
          xOff: x!.offset,
          wOff: w!.offset,
          eOff: re!.offset,
          colBlocks,
          blocks,
        }),
        grid: foldGrid(b, Math.ceil(blocks / GROUP)),
      });
    },
  );

  registerKernel<Backend, GroupedMatmulAttrs>(GROUPED_MATMUL, 'cpu', (b, [x, w, re], [y], a) => {
    assertContiguous(GROUPED_MATMUL, [x!, w!, re!]);
    const store = floatStore(b);
    const [rows, inner] = x!.shape as [number, number];
    const cols = y!.shape[1]!;
    const xs = dataOf(x!, GROUPED_MATMUL);
    const ws = dataOf(w!, GROUPED_MATMUL);
    const es = dataOf(re!, GROUPED_MATMUL);
    const out = dataOf(y!, GROUPED_MATMUL);
    for (let r = 0; r < rows; r++) {
      const e = es[re!.offset + r - (r % TILE)]!;
      for (let c = 0; c < cols; c++) {
        let acc = 0;
        if (e >= 0) {
          const base = w!.offset + e * inner * cols;
          for (let k = 0; k < inner; k++) {
            const wv = a.transB ? ws[base + c * inner + k]! : ws[base + k * cols + c]!;
            acc = store(acc + store(xs[x!.offset + r * inner + k]! * wv));
          }
        }
        out[r * cols + c] = acc;
      }
    }
  });

  registerKernel<WebGpuBackend, unknown>(GROUPED_WGRAD, 'webgpu', (b, [dy, x, seg], [dw]) => {
    assertDtypes(GROUPED_WGRAD, [dy!, x!, seg!], ['f32', 'f32', 'i32']);
    assertContiguous(GROUPED_WGRAD, [dy!, x!, seg!]);
    assertBindable(b, dw!, GROUPED_WGRAD, 'the weight gradient');
    const [experts, outDim, inDim] = dw!.shape as [number, number, number];
    const iBlocks = Math.ceil(inDim / BLOCK);
    const oBlocks = Math.ceil(outDim / BLOCK);
    const blocks = experts * iBlocks * oBlocks;
    if (blocks === 0) return;
    b.dispatch({
      pipeline: b.pipeline(wgradShader(inDim % 4 === 0 && x!.offset % 4 === 0)),
      buffers: [dy!, x!, seg!, dw!].map((v) => bufferOf(v, GROUPED_WGRAD)),
      params: packUniforms(WGRAD_FIELDS, {
        outDim,
        inDim,
        dyOff: dy!.offset,
        xOff: x!.offset,
        sOff: seg!.offset,
        iBlocks,
        oBlocks,
        blocks,
      }),
      grid: foldGrid(b, Math.ceil(blocks / GROUP)),
    });
  });

  registerKernel<Backend, unknown>(GROUPED_WGRAD, 'cpu', (b, [dy, x, seg], [dw]) => {
    assertContiguous(GROUPED_WGRAD, [dy!, x!, seg!]);
    const store = floatStore(b);
    const [experts, outDim, inDim] = dw!.shape as [number, number, number];
    const d = dataOf(dy!, GROUPED_WGRAD);
    const xs = dataOf(x!, GROUPED_WGRAD);
    const s = dataOf(seg!, GROUPED_WGRAD);
    const out = dataOf(dw!, GROUPED_WGRAD);
    for (let e = 0; e < experts; e++) {
      const start = s[seg!.offset + 2 * e]!;
      const len = Math.ceil(s[seg!.offset + 2 * e + 1]! / TILE) * TILE;
      for (let o = 0; o < outDim; o++) {
        for (let i = 0; i < inDim; i++) {
          let acc = 0;
          for (let r = start; r < start + len; r++)
            acc = store(
              acc + store(d[dy!.offset + r * outDim + o]! * xs[x!.offset + r * inDim + i]!),
            );
          out[(e * outDim + o) * inDim + i] = acc;
        }
      }
    }
  });
}
