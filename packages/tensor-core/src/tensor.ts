/**
 * The Tensor: an immutable value with a shape, a dtype and a device, viewing a
 * reference-counted storage through strides and an offset. Data leaves the
 * device only through async reads (`toArray()`, `item()`).
 */
import type { HostArray } from './backend.js';
import type { Device } from './device.js';
import type { DType } from './dtype.js';
import { DisposedTensorError } from './errors.js';
import type { GradNode } from './autograd/node.js';
import type { Storage } from './memory/storage.js';
import { trackTensor, untrack } from './memory/scope.js';
import { contiguousStrides, isContiguous, sizeOf, type Shape } from './shape.js';
import * as ops from './ops/index.js';

let nextId = 1;

/** A multi-dimensional array on one device. Create tensors with `tensor()`, `zeros()`, … */
export class Tensor {
  /** Unique id, for debugging and tape bookkeeping. */
  readonly id = nextId++;
  /** Whether autograd tracks this tensor. */
  requiresGrad = false;
  /** Accumulated gradient of a leaf after `backward()`. */
  grad: Tensor | null = null;
  private node: GradNode | null = null;
  private outputIndex = 0;
  private disposedFlag = false;

  /** @internal Use the creation functions or ops instead. */
  constructor(
    readonly device: Device,
    readonly storage: Storage,
    readonly shape: readonly number[],
    readonly dtype: DType,
    readonly strides: readonly number[] = contiguousStrides(shape),
    readonly offset = 0,
    track = true,
  ) {
    device.counters.liveTensors++;
    if (track) trackTensor(this);
  }

  /** Number of dimensions. */
  get rank(): number {
    return this.shape.length;
  }

  /** Number of elements. */
  get size(): number {
    return sizeOf(this.shape);
  }

  /** True once `dispose()` ran. */
  get isDisposed(): boolean {
    return this.disposedFlag;
  }

  /** True when the elements lie row-major and gap-free in storage. */
  get isContiguous(): boolean {
    return isContiguous(this.shape, this.strides);
  }

  /** True for tensors made by the user (not by an op that autograd recorded). */
  get isLeaf(): boolean {
    return this.node === null;
  }

  /** @internal The autograd node that produced this tensor. */
  gradNode(): GradNode | null {
    return this.node;
  }

  /** @internal */
  gradOutputIndex(): number {
    return this.outputIndex;
  }

  /** @internal Links this tensor to the op that produced it. */
  setGradNode(node: GradNode, outputIndex: number): void {
    this.node = node;
    this.outputIndex = outputIndex;
    this.requiresGrad = true;
  }

  /** @internal Throws a clear error when the tensor was disposed. */
  assertLive(op: string, arg: string): void {
    if (this.disposedFlag) throw new DisposedTensorError(op, arg);
  }

  /** @internal A second handle on the same storage, for autograd's saved tensors (not scope-tracked). */
  share(): Tensor {
    this.storage.retain();
    return new Tensor(
      this.device,
      this.storage,
      this.shape,
      this.dtype,
      this.strides,
      this.offset,
      false,
    );
  }

  /** @internal A view of the same storage with another layout (the caller records autograd). */
  view(shape: Shape, strides: readonly number[], offset: number): Tensor {
    this.storage.retain();
    return new Tensor(this.device, this.storage, shape, this.dtype, strides, offset);
  }

  /** Frees this handle; the storage goes back when no view or saved tensor uses it. Idempotent. */
  dispose(): void {
    if (this.disposedFlag) return;
    this.disposedFlag = true;
    this.device.counters.liveTensors--;
    this.storage.release();
    if (this.grad) {
      this.grad.dispose();
      this.grad = null;
    }
  }

  /** Marks this tensor (a leaf) as needing gradients. Returns this. */
  requireGrad(value = true): this {
    if (!this.isLeaf)
      throw new Error(
        `requireGrad: only leaf tensors can change requiresGrad (this one came from ${this.node!.op})`,
      );
    if (value && !(this.dtype === 'f32' || this.dtype === 'f16' || this.dtype === 'bf16')) {
      throw new TypeError(
        `requireGrad: gradients need a float dtype; this tensor is ${this.dtype}`,
      );
    }
    this.requiresGrad = value;
    return this;
  }

  /** Sets `.grad` (null clears it), disposing the previous one; the tensor owns its gradient from then on. */
  setGrad(grad: Tensor | null): void {
    if (this.grad && this.grad !== grad) this.grad.dispose();
    if (grad) untrack(grad);
    this.grad = grad;
  }

  /** Copies the values to the host: a typed array in row-major order. */
  async toArray(): Promise<HostArray> {
    this.assertLive('toArray', 'tensor');
    const src = this.isContiguous ? this : ops.contiguous(this);
    try {
      return await this.device.backend.read(src.storage.handle, src.dtype, src.offset, src.size);
    } finally {
      if (src !== this) src.dispose();
    }
  }

  /** The value of a one-element tensor. */
  async item(): Promise<number> {
    if (this.size !== 1)
      throw new RangeError(
        `item: tensor has shape [${this.shape.join(',')}] (${this.size} elements); expected exactly one`,
      );
    return (await this.toArray())[0]!;
  }

  /** A copy on another device (through the host). Autograd does not track the move. */
  async to(device: Device): Promise<Tensor> {
    this.assertLive('to', 'tensor');
    if (device === this.device) return this.detach();
    return ops.fromArray(await this.toArray(), this.shape, { device, dtype: this.dtype });
  }

  /** Runs autograd from this tensor; see {@link ops.backward}. */
  backward(grad?: Tensor, options?: { retainGraph?: boolean }): void {
    ops.backward(this, grad, options);
  }

  /** A tensor with the same values that autograd does not track. */
  detach(): Tensor {
    return ops.detach(this);
  }

  // Method sugar: each delegates to the free function of the same name in ops/.

  /** See {@link ops.add}. */ add(b: ops.TensorLike): Tensor {
    return ops.add(this, b);
  }
  /** See {@link ops.sub}. */ sub(b: ops.TensorLike): Tensor {
    return ops.sub(this, b);
  }
  /** See {@link ops.mul}. */ mul(b: ops.TensorLike): Tensor {
    return ops.mul(this, b);
  }
  /** See {@link ops.div}. */ div(b: ops.TensorLike): Tensor {
    return ops.div(this, b);
  }
  /** See {@link ops.pow}. */ pow(b: ops.TensorLike): Tensor {
    return ops.pow(this, b);
  }
  /** See {@link ops.maximum}. */ maximum(b: ops.TensorLike): Tensor {
    return ops.maximum(this, b);
  }
  /** See {@link ops.minimum}. */ minimum(b: ops.TensorLike): Tensor {
    return ops.minimum(this, b);
  }
  /** See {@link ops.eq}. */ eq(b: ops.TensorLike): Tensor {
    return ops.eq(this, b);
  }
  /** See {@link ops.ne}. */ ne(b: ops.TensorLike): Tensor {
    return ops.ne(this, b);
  }
  /** See {@link ops.lt}. */ lt(b: ops.TensorLike): Tensor {
    return ops.lt(this, b);
  }
  /** See {@link ops.le}. */ le(b: ops.TensorLike): Tensor {
    return ops.le(this, b);
  }
  /** See {@link ops.gt}. */ gt(b: ops.TensorLike): Tensor {
    return ops.gt(this, b);
  }
  /** See {@link ops.ge}. */ ge(b: ops.TensorLike): Tensor {
    return ops.ge(this, b);
  }
  /** See {@link ops.neg}. */ neg(): Tensor {
    return ops.neg(this);
  }
  /** See {@link ops.abs}. */ abs(): Tensor {
    return ops.abs(this);
  }
  /** See {@link ops.exp}. */ exp(): Tensor {
    return ops.exp(this);
  }
  /** See {@link ops.log}. */ log(): Tensor {
    return ops.log(this);
  }
  /** See {@link ops.sqrt}. */ sqrt(): Tensor {
    return ops.sqrt(this);
  }
  /** See {@link ops.rsqrt}. */ rsqrt(): Tensor {
    return ops.rsqrt(this);
  }
  /** See {@link ops.sin}. */ sin(): Tensor {
    return ops.sin(this);
  }
  /** See {@link ops.cos}. */ cos(): Tensor {
    return ops.cos(this);
  }
  /** See {@link ops.tanh}. */ tanh(): Tensor {
    return ops.tanh(this);
  }
  /** See {@link ops.sigmoid}. */ sigmoid(): Tensor {
    return ops.sigmoid(this);
  }
  /** See {@link ops.relu}. */ relu(): Tensor {
    return ops.relu(this);
  }
  /** See {@link ops.silu}. */ silu(): Tensor {
    return ops.silu(this);
  }
  /** See {@link ops.gelu}. */ gelu(approximate?: 'erf' | 'tanh'): Tensor {
    return ops.gelu(this, approximate);
  }
  /** See {@link ops.square}. */ square(): Tensor {
    return ops.square(this);
  }
  /** See {@link ops.cast}. */ cast(dtype: DType): Tensor {
    return ops.cast(this, dtype);
  }
  /** See {@link ops.sum}. */ sum(options?: ops.ReduceOptions): Tensor {
    return ops.sum(this, options);
  }
  /** See {@link ops.mean}. */ mean(options?: ops.ReduceOptions): Tensor {
    return ops.mean(this, options);
  }
  /** See {@link ops.max}. */ max(options?: ops.ReduceOptions): Tensor {
    return ops.max(this, options);
  }
  /** See {@link ops.min}. */ min(options?: ops.ReduceOptions): Tensor {
    return ops.min(this, options);
  }
  /** See {@link ops.reshape}. */ reshape(shape: readonly number[]): Tensor {
    return ops.reshape(this, shape);
  }
  /** See {@link ops.permute}. */ permute(dims: readonly number[]): Tensor {
    return ops.permute(this, dims);
  }
  /** See {@link ops.transpose}. */ transpose(dim0?: number, dim1?: number): Tensor {
    return ops.transpose(this, dim0, dim1);
  }
  /** See {@link ops.expand}. */ expand(shape: readonly number[]): Tensor {
    return ops.expand(this, shape);
  }
  /** See {@link ops.squeeze}. */ squeeze(axis?: number): Tensor {
    return ops.squeeze(this, axis);
  }
  /** See {@link ops.unsqueeze}. */ unsqueeze(axis: number): Tensor {
    return ops.unsqueeze(this, axis);
  }
  /** See {@link ops.flatten}. */ flatten(start?: number, end?: number): Tensor {
    return ops.flatten(this, start, end);
  }
  /** See {@link ops.slice}. */ slice(ranges: readonly (ops.SliceRange | undefined)[]): Tensor {
    return ops.slice(this, ranges);
  }
  /** See {@link ops.contiguous}. */ contiguous(): Tensor {
    return ops.contiguous(this);
  }

  /** See {@link ops.matmul}. */
  matmul(b: Tensor, options?: ops.MatmulOptions): Tensor {
    return ops.matmul(this, b, options);
  }
  /** See {@link ops.softmax}. */
  softmax(axis?: number): Tensor {
    return ops.softmax(this, axis);
  }
  /** See {@link ops.logSoftmax}. */
  logSoftmax(axis?: number): Tensor {
    return ops.logSoftmax(this, axis);
  }
  /** See {@link ops.logsumexp}. */
  logsumexp(options?: ops.ReduceOptions): Tensor {
    return ops.logsumexp(this, options);
  }
  /** See {@link ops.variance}. */
  variance(options?: ops.VarianceOptions): Tensor {
    return ops.variance(this, options);
  }
  /** See {@link ops.argmax}. */
  argmax(options?: ops.ArgReduceOptions): Tensor {
    return ops.argmax(this, options);
  }
  /** See {@link ops.argmin}. */
  argmin(options?: ops.ArgReduceOptions): Tensor {
    return ops.argmin(this, options);
  }
  /** See {@link ops.prod}. */
  prod(options?: ops.ReduceOptions): Tensor {
    return ops.prod(this, options);
  }
  /** See {@link ops.indexSelect}. */
  indexSelect(axis: number, index: Tensor): Tensor {
    return ops.indexSelect(this, axis, index);
  }
  /** See {@link ops.gather}. */
  gather(axis: number, index: Tensor): Tensor {
    return ops.gather(this, axis, index);
  }
  /** See {@link ops.split}. */
  split(sizes: number | readonly number[], axis?: number): Tensor[] {
    return ops.split(this, sizes, axis);
  }
  /** See {@link ops.pad}. */
  pad(pads: readonly (readonly [number, number])[], value?: number): Tensor {
    return ops.pad(this, pads, value);
  }
  /** See {@link ops.topk}. */
  topk(k: number, options?: ops.TopkOptions): ops.TopkResult {
    return ops.topk(this, k, options);
  }
  /** See {@link ops.cumsum}. */
  cumsum(axis: number, options?: ops.CumsumOptions): Tensor {
    return ops.cumsum(this, axis, options);
  }
  /** See {@link ops.where}: `cond.where(a, b)`. */
  where(a: ops.TensorLike, b: ops.TensorLike): Tensor {
    return ops.where(this, a, b);
  }

  toString(): string {
    return `Tensor(${this.dtype}, [${this.shape.join(',')}], ${this.device.name}${this.requiresGrad ? ', requiresGrad' : ''})`;
  }
}
