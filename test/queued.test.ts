import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { summarise } from '../src/cli/commands/status.js';
import { isQueued } from '../src/loop/queued.js';
import { makeLandscapeRepo } from '../src/test-support/landscape.js';
import { studiesClosedAfterAll } from '../src/test-support/study-harness.js';

const study = studiesClosedAfterAll();

describe('a clean stop with prefetched experiments (--max-hours)', () => {
  it('records them as queued, not as interrupted runs, says so, and the next run starts them as first attempts', async () => {
    const dir = makeLandscapeRepo({
      command: 'sleep 1.5; node train.mjs',
      extraToml: '[judge]\nkind = "greedy"\nnoise_runs = 1\n',
    });
    const first = await study(dir, { maxHours: 5 / 3600 });
    assert.equal(first.outcome.reason, 'max-hours', first.outcome.message);
    const s = (await first.ledger.getStudy('test'))!;
    const all = await first.ledger.listExperiments(s.id);
    const queued = all.filter(isQueued);
    assert.ok(queued.length >= 1, all.map((e) => `#${e.number} ${e.status} slot=${e.slot}`).join('\n'));
    for (const q of queued) assert.ok(q.commit, 'a queued proposal is committed, ready to run');
    assert.equal(all.filter((e) => e.status === 'running' && !isQueued(e)).length, 0, 'nothing was interrupted');
    assert.match(
      first.outcome.message,
      new RegExp(
        `; ${queued.length} proposed experiments? not started \\(queued\\): the next \`autoresearch run\` starts`,
      ),
    );

    const status = summarise(s, all, null);
    assert.equal(status.counts.queued, queued.length);
    assert.equal(status.counts.running, 0);
    assert.equal(status.recent.at(-1)!.status, 'queued');

    const finished = all.filter((e) => !e.baseline && e.status !== 'running').length;
    const second = await study(dir, { maxExperiments: finished + queued.length });
    assert.equal(second.outcome.reason, 'max-experiments', second.outcome.message);
    for (const q of queued) {
      const started = second.events.find((e) => e.type === 'experiment-started' && e.number === q.number);
      assert.ok(
        started && started.type === 'experiment-started' && started.resumed === false,
        `#${q.number} starts as a first attempt`,
      );
      const after = (await second.ledger.getExperiment(q.id))!;
      assert.notEqual(after.status, 'running');
      assert.equal(after.attempts, 1);
    }
    assert.equal(second.events.filter((e) => e.type === 'notice' && /killed/.test(e.message)).length, 0);
  });
});
