import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { acquireLock, gpuLockPath } from '../loop/lock.js';
import type { Gpu } from './gpus.js';
import { reserveSlots, type TryLock } from './gpu-reservations.js';

const GPUS: Gpu[] = [0, 1, 2].map((index) => ({ index, name: 'Fake H100', memoryMb: 80000 }));

/** Real OS locks in a fresh state directory; each "study" tags its reservations. */
function studies() {
  const stateDir = mkdtempSync(join(tmpdir(), 'ar-gpus-'));
  return (tag: string): TryLock =>
    (i) =>
      acquireLock(gpuLockPath(stateDir, i), { tag });
}

describe('GPU reservations between studies of one workspace', () => {
  it('an "auto" plan takes only free cards and says which are taken by whom', () => {
    const lockAs = studies();
    const a = reserveSlots({ count: 2, gpus: 'auto' }, GPUS, lockAs('a'));
    assert.ok(a.ok);
    assert.deepEqual(
      a.slots.map((s) => s.env.CUDA_VISIBLE_DEVICES),
      ['0', '1'],
    );
    assert.equal(a.notice, null);
    const b = reserveSlots({ count: 'auto', gpus: 'auto' }, GPUS, lockAs('b'));
    assert.ok(b.ok, !b.ok ? b.message : '');
    assert.deepEqual(
      b.slots.map((s) => [s.index, s.label, s.env.CUDA_VISIBLE_DEVICES]),
      [[0, 'gpu2', '2']],
    );
    assert.match(b.notice!, /^GPU 0, 1 in use by study "a" \(pid \d+\); this study uses GPU 2$/);
    assert.deepEqual(
      b.taken.map((t) => [t.index, t.holder.tag]),
      [
        [0, 'a'],
        [1, 'a'],
      ],
    );

    const c = reserveSlots({ count: 'auto', gpus: 'auto' }, GPUS, lockAs('c'));
    assert.equal(c.ok, false);
    assert.match(
      !c.ok ? c.message : '',
      /every GPU is in use by another study of this workspace \(GPU 0, 1 in use by study "a" \(pid \d+\); GPU 2 in use by study "b" \(pid \d+\)\)/,
    );
    const cpu = reserveSlots({ count: 2, gpus: 'none' }, GPUS, lockAs('c'));
    assert.ok(cpu.ok, 'CPU slots need no card');
    assert.deepEqual(
      cpu.slots.map((s) => s.label),
      ['cpu0', 'cpu1'],
    );

    a.release();
    a.release(); // twice is harmless
    const again = reserveSlots({ count: 'auto', gpus: 'auto' }, GPUS, lockAs('c'));
    assert.ok(again.ok);
    assert.deepEqual(
      again.slots.map((s) => s.env.CUDA_VISIBLE_DEVICES),
      ['0', '1'],
      'released cards are free again',
    );
    again.release();
    b.release();
  });

  it("a fixed slot count that the free cards can't honour is an error, holding nothing", () => {
    const lockAs = studies();
    const a = reserveSlots({ count: 1, gpus: 'auto' }, GPUS, lockAs('a'));
    assert.ok(a.ok);
    const b = reserveSlots({ count: 3, gpus: 'auto' }, GPUS, lockAs('b'));
    assert.equal(b.ok, false);
    assert.match(
      !b.ok ? b.message : '',
      /3 slots asked, but only 2 GPU\(s\) are free \(GPU 0 in use by study "a" \(pid \d+\)\).*--slots 2/,
    );
    const c = reserveSlots({ count: 2, gpus: 'auto' }, GPUS, lockAs('c'));
    assert.ok(c.ok, 'the failed plan let go of the cards it had locked');
    assert.deepEqual(
      c.slots.map((s) => s.env.CUDA_VISIBLE_DEVICES),
      ['1', '2'],
    );
    a.release();
    c.release();
  });

  it('an explicit [slots].gpus list naming a taken card is an error that says who has it and what is free', () => {
    const lockAs = studies();
    const a = reserveSlots({ count: 'auto', gpus: [1] }, GPUS, lockAs('a'));
    assert.ok(a.ok);
    assert.deepEqual(
      a.slots.map((s) => s.env.CUDA_VISIBLE_DEVICES),
      ['1'],
    );
    const b = reserveSlots({ count: 'auto', gpus: [1, 2] }, GPUS, lockAs('b'));
    assert.equal(b.ok, false);
    assert.match(
      !b.ok ? b.message : '',
      /\[slots\]\.gpus lists GPU 1, in use by study "a" \(pid \d+\)\. Two studies never share a card: pick free GPUs in \[slots\]\.gpus \(free now: 0, 2\), or stop that study first\./,
    );
    const d = reserveSlots({ count: 'auto', gpus: [2] }, GPUS, lockAs('d'));
    assert.ok(d.ok, 'GPU 2 was not kept by the refused plan');
    d.release();
    a.release();
  });
});
