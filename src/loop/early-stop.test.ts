import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { StudyRecord } from '../ledger/types.js';
import type { StudyEvent } from './events.js';
import { CURVE_KIND, CURVE_POINTS, RunWatch, referenceFor, storeCurve } from './early-stop.js';

/** An in-memory fake of the ledger's study records (the two calls early-stop uses). */
class FakeRecords {
  readonly rows = new Map<string, StudyRecord>();
  async putRecord(_study: number, kind: string, key: string, value: unknown): Promise<StudyRecord> {
    const r = { kind, key, value: JSON.parse(JSON.stringify(value)), updatedAt: Date.now() };
    this.rows.set(`${kind}/${key}`, r);
    return r;
  }
  async listRecords(_study: number, kind: string): Promise<StudyRecord[]> {
    return [...this.rows.values()].filter((r) => r.kind === kind).sort((a, b) => a.key.localeCompare(b.key));
  }
}

const config = (enabled = true, extra: Partial<Record<string, unknown>> = {}) => ({
  early_stop: {
    enabled,
    dry_run: false,
    k: 3,
    min_fraction: 0.3,
    min_reference_runs: 2,
    patience: 2,
    min_rel_gap: 0,
    check_steps: true,
    ...extra,
  },
});
const line = (t: number, loss: number) => `progress: elapsed=${t} loss=${loss}\n`;
const curve = (offset: number): Array<[number, number]> =>
  Array.from({ length: 11 }, (_, t) => [t, 5 - 0.3 * t + offset] as [number, number]);

describe('referenceFor', () => {
  it("gives the base commit's curves and every repeated commit's for the spread; null when too few or off", async () => {
    const ledger = new FakeRecords();
    await storeCurve(ledger, 1, '0.r0.a1', 'base', curve(0));
    assert.equal(await referenceFor({ config: config(), ledger }, 1, 'base'), null, 'one curve is not enough');
    await storeCurve(ledger, 1, '0.r1.a1', 'base', curve(0.02));
    await storeCurve(ledger, 1, '3.r0.a1', 'other', curve(1));
    await storeCurve(ledger, 1, '4.r0.a1', 'short', [[0, 1]]); // one point: not stored
    await ledger.putRecord(1, CURVE_KIND, '5.r0.a1', { commit: 'base', points: 'garbage' }); // skipped
    await ledger.putRecord(1, CURVE_KIND, '6.r0.a1', { commit: 'base', points: [[0, 'x'], [1]] }); // skipped
    const ref = await referenceFor({ config: config(), ledger }, 1, 'base');
    assert.ok(ref);
    assert.equal(ref.curves.length, 2);
    assert.equal(ref.groups.length, 1, 'only commits with two curves give a spread');
    assert.equal(ledger.rows.has(`${CURVE_KIND}/4.r0.a1`), false);
    assert.equal(await referenceFor({ config: config(false), ledger }, 1, 'base'), null, 'off');
  });
});

describe('RunWatch', () => {
  const ref = { curves: [curve(0), curve(0.02)], groups: [[curve(0), curve(0.02)]] };
  const target = { number: 7, slot: 0, run: 0 };

  it('aborts and emits once when the curve is clearly worse; keeps its points sampled', () => {
    const events: StudyEvent[] = [];
    const w = new RunWatch(ref, config(), (e) => events.push(e), target);
    for (let t = 0; t <= 10; t++) w.onOutput(line(t, 5 - 0.3 * t + 1));
    assert.equal(w.signal.aborted, true);
    assert.ok(w.stopped && w.stopped.elapsed === 4, 'stopped at the second worse point past 30%');
    assert.deepEqual(
      events.map((e) => e.type === 'early-stop' && [e.number, e.dryRun, e.elapsed]),
      [[7, false, 4]],
    );
    assert.equal(w.curve().length, 11);
  });

  it('with dry_run announces but never aborts', () => {
    const events: StudyEvent[] = [];
    const w = new RunWatch(ref, config(true, { dry_run: true }), (e) => events.push(e), target);
    for (let t = 0; t <= 10; t++) w.onOutput(line(t, 10));
    assert.equal(w.signal.aborted, false);
    assert.equal(w.stopped, null);
    assert.equal(events.length, 1);
  });

  it('never stops without a reference, or a run printing nothing or garbage; bounds what it keeps', () => {
    const quiet = new RunWatch(ref, config(), () => assert.fail('no event'), target);
    quiet.onOutput('step 1 | loss 99\n'.repeat(100));
    quiet.onOutput(`progress: elapsed=nan loss=99\n${'x'.repeat(100_000)}`);
    assert.equal(quiet.signal.aborted, false);
    const noRef = new RunWatch(null, config(), () => assert.fail('no event'), target);
    for (let t = 0; t < 10_000; t++) noRef.onOutput(line(t / 1000, 99));
    assert.equal(noRef.signal.aborted, false);
    assert.equal(noRef.curve().length, CURVE_POINTS);
  });
});
