import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { planSlots } from './slots.js';

const gpus = [0, 1, 2, 3].map((index) => ({ index, name: 'NVIDIA H100', memoryMb: 80000 }));

describe('planSlots', () => {
  it('gives one slot per GPU, each with its own CUDA_VISIBLE_DEVICES', () => {
    const r = planSlots({ count: 'auto', gpus: 'auto' }, gpus);
    assert.ok(r.ok);
    assert.deepEqual(
      r.slots.map((s) => s.env.CUDA_VISIBLE_DEVICES),
      ['0', '1', '2', '3'],
    );
    assert.equal(new Set(r.slots.map((s) => s.gpu!.index)).size, 4, 'slots never share a GPU');
  });

  it('refuses more slots than GPUs', () => {
    const r = planSlots({ count: 5, gpus: 'auto' }, gpus);
    assert.ok(!r.ok);
    assert.match(r.message, /only 4 GPU\(s\).*never two/);
  });

  it('uses a subset, explicit cards, or CPU slots', () => {
    const two = planSlots({ count: 2, gpus: 'auto' }, gpus);
    assert.ok(two.ok && two.slots.length === 2);
    const picked = planSlots({ count: 'auto', gpus: [2, 3] }, gpus);
    assert.ok(picked.ok);
    assert.deepEqual(
      picked.slots.map((s) => s.label),
      ['gpu2', 'gpu3'],
    );
    const cpu = planSlots({ count: 3, gpus: 'none' }, gpus);
    assert.ok(cpu.ok);
    assert.deepEqual(
      cpu.slots.map((s) => [s.label, s.env]),
      [
        ['cpu0', {}],
        ['cpu1', {}],
        ['cpu2', {}],
      ],
    );
    const none = planSlots({ count: 'auto', gpus: 'auto' }, []);
    assert.ok(none.ok && none.slots.length === 1 && none.slots[0]!.gpu === null);
  });

  it('reports GPUs that do not exist', () => {
    const r = planSlots({ count: 'auto', gpus: [7] }, gpus);
    assert.ok(!r.ok);
    assert.match(r.message, /GPU 7/);
  });
});
