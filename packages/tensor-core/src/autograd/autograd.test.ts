import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as ops from '../ops/index.js';
import { noGrad } from './grad-mode.js';
import { onEach, openTestDevices, values, type TestDevices } from '../test-utils/index.js';

let d: TestDevices;
beforeAll(async () => {
  d = await openTestDevices();
});
afterAll(() => d.close());

describe('the tape', () => {
  it('accumulates gradients of a tensor used several times, and across backward calls', async () => {
    for (const dev of [d.gpu, d.ref]) {
      const [x] = onEach([dev], [1, 2, 3], [3], 'f32', true);
      // y = x·x + 3x → dy/dx = 2x + 3
      ops.sum(ops.add(ops.mul(x!, x!), ops.mul(x!, 3))).backward();
      expect(await values(x!.grad!)).toEqual([5, 7, 9]);
      ops.sum(x!).backward();
      expect(await values(x!.grad!)).toEqual([6, 8, 10]);
    }
  });

  it('takes an upstream gradient for non-scalar outputs and requires one otherwise', async () => {
    const [x] = onEach([d.gpu], [1, 2], [2], 'f32', true);
    const y = ops.mul(x!, x!);
    expect(() => y.backward()).toThrow(
      'backward: grad must be given for a non-scalar tensor of shape [2]',
    );
    const [g] = onEach([d.gpu], [10, 100], [2]);
    y.backward(g);
    expect(await values(x!.grad!)).toEqual([20, 400]);
  });

  it('frees the graph after backward unless retainGraph is set', async () => {
    const [x] = onEach([d.ref], [2], [1], 'f32', true);
    const y = ops.sum(ops.exp(x!));
    y.backward(undefined, { retainGraph: true });
    y.backward();
    expect((await values(x!.grad!))[0]).toBeCloseTo(2 * Math.exp(2), 10);
    expect(() => y.backward()).toThrow(/the graph through .* was already freed/);
  });

  it('noGrad and detach stop recording', () => {
    const [x] = onEach([d.ref], [1], [1], 'f32', true);
    const y = noGrad(() => ops.mul(x!, 2));
    expect(y.requiresGrad).toBe(false);
    expect(ops.mul(x!.detach(), 2).requiresGrad).toBe(false);
    expect(() => noGrad(async () => 1)).toThrow(/noGrad: fn returned a Promise/);
    expect(() => y.backward()).toThrow('backward: the tensor does not require grad');
  });

  it('does not track integer tensors', () => {
    const [x] = onEach([d.ref], [1], [1], 'i32');
    expect(() => x!.requireGrad()).toThrow(
      'requireGrad: gradients need a float dtype; this tensor is i32',
    );
  });
});
