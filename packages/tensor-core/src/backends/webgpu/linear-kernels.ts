/**
 * WebGPU kernel of the fused linear op (contract in ops/linear.ts). Where the
 * direct matmul kernel applies (N a multiple of 4), bias and activation run in
 * its epilogue; otherwise the shared-memory product is followed by one
 * elementwise epilogue pass.
 */
import type { TensorView } from '../../backend.js';
import { UNARY, WGSL_HELPERS } from '../../ops/elementwise-table.js';
import type { LinearAttrs } from '../../ops/linear.js';
import { registerKernel } from '../../registry.js';
import { WORKGROUP, gridFor } from './elementwise-codegen.js';
import { encodeDirect, encodeShared } from './matmul-kernels.js';
import type { GpuStorage, WebGpuBackend } from './webgpu-backend.js';
import { WGSL_DTYPE_HELPERS, loadExpr, storageType } from './wgsl-dtype.js';

const buf = (v: TensorView): GPUBuffer => (v.handle as GpuStorage).buffer;

/** y = act(z + bias) elementwise over [R, N] (and pre = z + bias where asked). */
function epilogue(
  backend: WebGpuBackend,
  z: TensorView,
  bias: TensorView | null,
  y: TensorView,
  pre: TensorView | null,
  activation: string | null,
): void {
  const [R, N] = z.shape as [number, number];
  const n = R * N;
  if (n === 0) return;
  const act = activation ? UNARY[activation]!.wgsl : 'x';
  let i = 0;
  const decls = [`@group(0) @binding(${i++}) var<storage, read> z: array<f32>;`];
  if (bias)
    decls.push(
      `@group(0) @binding(${i++}) var<storage, read> bias: array<${storageType(bias.dtype)}>;`,
    );
  decls.push(`@group(0) @binding(${i++}) var<storage, read_write> y: array<f32>;`);
  if (pre) decls.push(`@group(0) @binding(${i++}) var<storage, read_write> pre: array<f32>;`);
  const code = `${WGSL_DTYPE_HELPERS}
${WGSL_HELPERS}
struct Params { n: u32, cols: u32, biasOff: u32, pad: u32 }
${decls.join('\n')}
@group(0) @binding(${i}) var<uniform> p: Params;
fn act(x: f32) -> f32 { return ${act}; }
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let e = gid.x + gid.y * nw.x * ${WORKGROUP}u;
  if (e >= p.n) { return; }
  var v = z[e];
  ${bias ? `v = v + ${loadExpr('bias', bias.dtype, 'p.biasOff + e % p.cols')};` : ''}
  ${pre ? 'pre[e] = v;' : ''}
  y[e] = act(v);
}
`;
  backend.dispatch({
    pipeline: backend.pipeline(code),
    buffers: [z, ...(bias ? [bias] : []), y, ...(pre ? [pre] : [])].map(buf),
    params: new Uint32Array([n, N, bias?.offset ?? 0, 0]).buffer,
    grid: gridFor(backend, n),
  });
}

registerKernel<WebGpuBackend, LinearAttrs>(
  'linear',
  'webgpu',
  (backend, inputs, outputs, attrs) => {
    const [x, w, biasIn] = inputs;
    const bias = attrs.hasBias ? biasIn! : null;
    const y = outputs[0]!;
    const pre = attrs.savePre ? outputs[1]! : null;
    if (y.dtype !== 'f32') throw new Error(`internal: linear writes f32; got ${y.dtype}`);
    const K = x!.shape[1]!;
    const N = w!.shape[0]!;
    // w [N, K] read as wᵀ [K, N]: unit stride along K (the direct path copies it to K×N).
    const wt: TensorView = { ...w!, shape: [K, N], strides: [1, K] };
    if (
      encodeDirect(backend, x!, wt, y, { bias, activation: attrs.activation, preActivation: pre })
    )
      return;
    if (!bias && !attrs.activation) {
      encodeShared(backend, x!, wt, y);
      return;
    }
    // z and pre are distinct buffers: one dispatch cannot read and write the same binding.
    const z: TensorView = { ...y, handle: backend.allocate('f32', y.shape[0]! * N) };
    encodeShared(backend, x!, wt, z);
    epilogue(backend, z, bias, y, pre, attrs.activation);
    backend.release(z.handle);
  },
);
