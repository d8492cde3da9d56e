/**
 * Two studies of one workspace at once (`run --tag a` and `run --tag b`): they never share a GPU,
 * and never overwrite each other's results.tsv.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatResultsTsv } from '../src/ledger/results-tsv.js';
import type { StudyEvent } from '../src/loop/events.js';
import { acquireLock, acquireStudyLock, resultsLockPath, studyLockPath } from '../src/loop/lock.js';
import { studyResultsPath } from '../src/loop/results-files.js';
import { ProcessRunner } from '../src/runner/index.js';
import type { Runner } from '../src/runner/types.js';
import { cli } from '../src/test-support/cli.js';
import { makeLandscapeRepo } from '../src/test-support/landscape.js';
import { studiesClosedAfterAll } from '../src/test-support/study-harness.js';

const study = studiesClosedAfterAll();
const fakeGpus = async () => [0, 1, 2].map((index) => ({ index, name: 'Fake H100', memoryMb: 80000 }));

interface RunSeen {
  tag: string;
  gpu: string;
  start: number;
  end: number;
}

/** The real runner, noting which study ran on which card, and when. */
function recordingRunner(seen: RunSeen[]): Runner {
  const real = new ProcessRunner();
  return {
    async run(spec, signal) {
      const start = Date.now();
      const r = await real.run(spec, signal);
      seen.push({
        tag: spec.env.AUTORESEARCH_STUDY!,
        gpu: spec.env.CUDA_VISIBLE_DEVICES ?? '',
        start,
        end: Date.now(),
      });
      return r;
    },
  };
}

describe('two studies in one workspace', () => {
  it("run at once on disjoint GPUs; the root results.tsv is the first one's, the other's rows are under .autoresearch/results", async () => {
    const dir = makeLandscapeRepo({
      command: 'sleep 0.4; node train.mjs',
      extraToml: '[judge]\nkind = "greedy"\nnoise_runs = 1\n',
    });
    const seen: RunSeen[] = [];
    const runner = recordingRunner(seen);
    let aStarted!: () => void;
    const aRunning = new Promise<void>((r) => (aStarted = r));
    const a = study(
      dir,
      { maxExperiments: 6 },
      {
        overrides: { tag: 'a', slots: 2 },
        listGpus: fakeGpus,
        runner,
        onEvent: (e) => e.type === 'study-started' && aStarted(),
      },
    );
    await aRunning;
    const bEvents: StudyEvent[] = [];
    let bStarted!: () => void;
    const bRunning = new Promise<void>((r) => (bStarted = r));
    const b = study(
      dir,
      { maxExperiments: 4 },
      {
        overrides: { tag: 'b' },
        listGpus: fakeGpus,
        runner,
        onEvent: (e) => {
          bEvents.push(e);
          if (e.type === 'study-started') bStarted();
        },
      },
    );
    await bRunning;
    // a third study finds no free card
    const c = await study(dir, { maxExperiments: 1 }, { overrides: { tag: 'c' }, listGpus: fakeGpus, runner });
    assert.equal(c.outcome.reason, 'error');
    assert.match(
      c.outcome.message,
      /every GPU is in use by another study of this workspace \(GPU 0, 1 in use by study "a" \(pid \d+\); GPU 2 in use by study "b" \(pid \d+\)\)/,
    );
    const [ra, rb] = await Promise.all([a, b]);
    assert.equal(ra.outcome.reason, 'max-experiments');
    assert.equal(rb.outcome.reason, 'max-experiments');

    // GPUs: a on 0 and 1, b on 2 only, and they really ran at the same time
    assert.deepEqual([...new Set(seen.filter((s) => s.tag === 'a').map((s) => s.gpu))].sort(), ['0', '1']);
    assert.deepEqual([...new Set(seen.filter((s) => s.tag === 'b').map((s) => s.gpu))], ['2']);
    const overlap = seen.some(
      (x) => x.tag === 'a' && seen.some((y) => y.tag === 'b' && y.start < x.end && x.start < y.end),
    );
    assert.ok(overlap, 'runs of a and b overlapped in time');
    const notices = bEvents
      .filter((e): e is Extract<StudyEvent, { type: 'notice' }> => e.type === 'notice')
      .map((e) => e.message);
    assert.ok(
      notices.some((m) => /^GPU 0, 1 in use by study "a" \(pid \d+\); this study uses GPU 2$/.test(m)),
      notices.join('\n'),
    );
    const started = bEvents.find(
      (e): e is Extract<StudyEvent, { type: 'study-started' }> => e.type === 'study-started',
    )!;
    assert.deepEqual(
      started.slots.map((s) => s.label),
      ['gpu2'],
    );

    // results: the root file is a's (byte for byte), b's rows are in its own file, said once
    const rows = async (r: typeof ra, tag: string) => r.ledger.listExperiments((await r.ledger.getStudy(tag))!.id);
    const tsv = (all: Awaited<ReturnType<typeof rows>>) => formatResultsTsv(all, { metric: 'val_bpb' });
    const aTsv = tsv(await rows(ra, 'a'));
    const bTsv = tsv(await rows(rb, 'b'));
    assert.equal(aTsv.split('\n').length, 1 + 7 + 1);
    assert.equal(bTsv.split('\n').length, 1 + 5 + 1);
    assert.equal(readFileSync(join(dir, 'results.tsv'), 'utf8'), aTsv);
    assert.equal(readFileSync(studyResultsPath(dir, 'a'), 'utf8'), aTsv);
    assert.equal(readFileSync(studyResultsPath(dir, 'b'), 'utf8'), bTsv);
    const rootNotices = notices.filter((m) => m.includes('results.tsv'));
    assert.equal(rootNotices.length, 1);
    assert.match(
      rootNotices[0]!,
      /^results\.tsv at the workspace root belongs to study "a", running \(pid \d+\); the rows of study "b" go to \.autoresearch\/results\/b\.tsv \(`autoresearch results --tag b` prints them\)$/,
    );
    assert.ok(
      !ra.events.some((e) => e.type === 'notice' && e.message.includes('results.tsv')),
      'the owner says nothing',
    );

    // `autoresearch results --tag b` prints b's rows; while a study owns the root it leaves it alone
    const lock = acquireLock(resultsLockPath(join(dir, '.autoresearch')), { tag: 'a' });
    assert.ok(lock.ok);
    let r = cli(['results', dir, '--tag', 'b']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, bTsv);
    assert.match(r.stderr, /results\.tsv at the workspace root belongs to study "a"/);
    assert.equal(readFileSync(join(dir, 'results.tsv'), 'utf8'), aTsv);
    lock.lock.release();
    // with no study running, it refreshes the root file as before
    r = cli(['results', dir, '--tag', 'b']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    assert.equal(readFileSync(join(dir, 'results.tsv'), 'utf8'), bTsv);

    // `status` tells a live study (the lock held, here by this process) from a stopped one
    const held = acquireStudyLock(studyLockPath(join(dir, '.autoresearch'), 'b'), 'b');
    assert.ok(held.ok);
    assert.match(cli(['status', dir, '--tag', 'b']).stdout, new RegExp(`RUNNING \\(pid ${process.pid},`));
    held.lock.release();
    assert.doesNotMatch(cli(['status', dir, '--tag', 'b']).stdout, /RUNNING/);
  });
});
