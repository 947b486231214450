/**
 * WebGPU kernels of the fused SwiGLU gate (contracts in ops/swiglu.ts): one
 * invocation per element, contiguous inputs, f32 outputs (execute() casts to
 * 16-bit where asked).
 */
import type { TensorView } from '../../backend.js';
import { WGSL_HELPERS } from '../../ops/elementwise-table.js';
import { registerKernel } from '../../registry.js';
import { sizeOf } from '../../shape.js';
import { WORKGROUP, gridFor } from './elementwise-codegen.js';
import type { GpuStorage, WebGpuBackend } from './webgpu-backend.js';
import { WGSL_DTYPE_HELPERS, loadExpr, storageType } from './wgsl-dtype.js';

const buf = (v: TensorView): GPUBuffer => (v.handle as GpuStorage).buffer;

function encode(
  backend: WebGpuBackend,
  inputs: readonly TensorView[],
  outputs: readonly TensorView[],
  body: string,
): void {
  const n = sizeOf(outputs[0]!.shape);
  if (n === 0) return;
  for (const o of outputs)
    if (o.dtype !== 'f32') throw new Error(`internal: swiglu kernels write f32; got ${o.dtype}`);
  const names = ['g', 'u', 'dy'];
  const decls = inputs.map(
    (v, i) =>
      `@group(0) @binding(${i}) var<storage, read> ${names[i]}: array<${storageType(v.dtype)}>;\nfn ld_${names[i]}(i: u32) -> f32 { return ${loadExpr(names[i]!, v.dtype, `p.off${i} + i`)}; }`,
  );
  const outs = outputs.map(
    (_, i) =>
      `@group(0) @binding(${inputs.length + i}) var<storage, read_write> o${i}: array<f32>;`,
  );
  const grid = gridFor(backend, n);
  const code = `${WGSL_DTYPE_HELPERS}
${WGSL_HELPERS}
struct Params { n: u32, off0: u32, off1: u32, off2: u32 }
${decls.join('\n')}
${outs.join('\n')}
@group(0) @binding(${inputs.length + outputs.length}) var<uniform> p: Params;
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let i = gid.x + gid.y * nw.x * ${WORKGROUP}u;
  if (i >= p.n) { return; }
  let g = ld_g(i);
  let u = ld_u(i);
  let s = fathom_sigmoid(g);
  ${body}
}
`;
  backend.dispatch({
    pipeline: backend.pipeline(code),
    buffers: [...inputs.map(buf), ...outputs.map(buf)],
    params: new Uint32Array([n, inputs[0]!.offset, inputs[1]!.offset, inputs[2]?.offset ?? 0])
      .buffer,
    grid,
  });
}

registerKernel<WebGpuBackend, unknown>('swiglu', 'webgpu', (b, inputs, outputs) =>
  encode(b, inputs, outputs, 'o0[i] = g * s * u;'),
);

registerKernel<WebGpuBackend, unknown>('swiglu_grad', 'webgpu', (b, inputs, outputs) =>
  encode(
    b,
    inputs,
    outputs,
    'let d = ld_dy(i);\n  o0[i] = d * u * s * (1.0 + g * (1.0 - s));\n  o1[i] = d * g * s;',
  ),
);
