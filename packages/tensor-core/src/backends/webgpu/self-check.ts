/**
 * A one-dispatch compute check: proves the adapter compiles WGSL, runs it and
 * returns correct numbers. Used by the smoke command and the foundation test.
 */

const SAXPY_WGSL = /* wgsl */ `
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<uniform> a: f32;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
  let i = id.x;
  if (i < arrayLength(&y)) {
    y[i] = a * x[i] + y[i];
  }
}`;

/** Result of {@link runSelfCheck}: the computed values and the largest error. */
export interface SelfCheckResult {
  n: number;
  maxAbsError: number;
  sample: number[];
}

/** Computes `y = a·x + y` on the GPU for n values and compares with the CPU. */
export async function runSelfCheck(device: GPUDevice, n = 1000): Promise<SelfCheckResult> {
  const a = 2.5;
  const x = Float32Array.from({ length: n }, (_, i) => i * 0.5);
  const y = Float32Array.from({ length: n }, (_, i) => 1 - i);
  const bytes = n * 4;
  const xBuf = device.createBuffer({
    size: bytes,
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST,
  });
  const yBuf = device.createBuffer({
    size: bytes,
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC,
  });
  const aBuf = device.createBuffer({
    size: 16,
    usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
  });
  const readBuf = device.createBuffer({
    size: bytes,
    usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
  });
  try {
    device.queue.writeBuffer(xBuf, 0, x);
    device.queue.writeBuffer(yBuf, 0, y);
    device.queue.writeBuffer(aBuf, 0, new Float32Array([a, 0, 0, 0]));
    const module = device.createShaderModule({ code: SAXPY_WGSL });
    const pipeline = device.createComputePipeline({
      layout: 'auto',
      compute: { module, entryPoint: 'main' },
    });
    const bindGroup = device.createBindGroup({
      layout: pipeline.getBindGroupLayout(0),
      entries: [
        { binding: 0, resource: { buffer: xBuf } },
        { binding: 1, resource: { buffer: yBuf } },
        { binding: 2, resource: { buffer: aBuf } },
      ],
    });
    const encoder = device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(Math.ceil(n / 64));
    pass.end();
    encoder.copyBufferToBuffer(yBuf, 0, readBuf, 0, bytes);
    device.queue.submit([encoder.finish()]);
    await readBuf.mapAsync(GPUMapMode.READ);
    const got = new Float32Array(readBuf.getMappedRange().slice(0));
    readBuf.unmap();
    let maxAbsError = 0;
    for (let i = 0; i < n; i++) {
      const want = Math.fround(Math.fround(a * x[i]!) + y[i]!);
      maxAbsError = Math.max(maxAbsError, Math.abs(got[i]! - want));
    }
    return { n, maxAbsError, sample: Array.from(got.subarray(0, 4)) };
  } finally {
    for (const b of [xBuf, yBuf, aBuf, readBuf]) b.destroy();
  }
}
