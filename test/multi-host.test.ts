/**
 * Several hosts, one study: two real `autoresearch run` processes, each in its own clone of the
 * workspace, on one PostgreSQL ledger (a throw-away database of the test cluster).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PostgresLedger } from '../src/ledger/postgres.ts';
import { cli, liveGroupMembers } from '../src/test-support/cli.ts';
import { experiments, startHost, twoClones, until } from '../src/test-support/hosts.ts';
import { git } from '../src/test-support/landscape.ts';
import { testDatabase } from '../src/test-support/postgres.ts';

describe('several hosts, one study (PostgreSQL)', () => {
  it('two hosts share the frontier: numbers without gaps, one keep per best, the best improves', {
    timeout: 240_000,
  }, async () => {
    const db = await testDatabase('hosts');
    try {
      const [a, b] = twoClones(db.url, 'lease_s = 5', 'sleep "$AUTORESEARCH_TEST_SLEEP"; node train.mjs');
      const A = startHost('host-a', a, ['--max-experiments', '10', '--seed', '1'], { AUTORESEARCH_TEST_SLEEP: '0' });
      // B joins once A recorded the study (the second host of a lab joins a running study)
      await until(() => A.events.some((e) => e.type === 'study-started'), 'A to start');
      const B = startHost('host-b', b, ['--max-experiments', '10', '--seed', '2'], { AUTORESEARCH_TEST_SLEEP: '0' });
      const codes = await Promise.all([A.exited, B.exited]);
      assert.deepEqual(codes, [0, 0], `A: ${A.stderr()}\nB: ${B.stderr()}`);
      const all = await experiments(db.url);
      assert.deepEqual(
        all.map((e) => e.number),
        [...all.keys()],
        'numbers 0..n-1, no gaps',
      );
      assert.ok(
        all.every((e) => e.status !== 'running'),
        'nothing left running',
      );
      const byHost = new Set(all.filter((e) => !e.baseline).map((e) => e.host));
      assert.deepEqual([...byHost].sort(), ['host-a', 'host-b'], 'both hosts ran experiments');
      const keeps = all.filter((e) => e.status === 'keep');
      assert.equal(keeps.filter((e) => e.baseline).length, 1, 'one baseline kept');
      const parents = keeps.filter((e) => !e.baseline).map((e) => e.parentCommit);
      assert.equal(new Set(parents).size, parents.length, 'no two keeps on the same best');
      // the keeps form one chain from the baseline: each was made on the best of its time
      let best = keeps[0]!.parentCommit;
      const rest = keeps.slice(1);
      while (rest.length) {
        const i = rest.findIndex((k) => k.parentCommit === best);
        assert.ok(i >= 0, `a keep on ${best.slice(0, 7)}: ${rest.map((k) => `#${k.number}`).join(', ')} are not`);
        best = rest.splice(i, 1)[0]!.commit!;
      }
      const l = await PostgresLedger.open(db.url);
      const study = (await l.getStudy('test'))!;
      await l.close();
      assert.equal(study.bestCommit, best);
      assert.ok(study.bestValue! < keeps[0]!.value!, 'the shared best improved on the baseline');
      // the host that kept last has the best on its study branch; the other can rebuild it
      for (const dir of [a, b]) {
        const tip = git(dir, ['rev-parse', 'autoresearch/test']).trim();
        assert.ok(
          keeps.some((k) => (k.commit ?? k.parentCommit) === tip),
          'each clone’s study branch is a kept commit',
        );
      }
      const lastKeeper = keeps.find((k) => k.commit === best)!.host;
      const lastDir = lastKeeper === 'host-a' ? a : b;
      assert.equal(git(lastDir, ['rev-parse', 'autoresearch/test']).trim(), best);
    } finally {
      await db.drop();
    }
  });

  it('kill -9 one host mid-run: the other takes its experiment over after the lease and finishes it once', {
    timeout: 240_000,
  }, async () => {
    const db = await testDatabase('kill');
    const pgids: number[] = [];
    try {
      // A's runs take 4 s, B's 0.3 s (AUTORESEARCH_* variables reach runs)
      const [a, b] = twoClones(db.url, 'lease_s = 1.5', 'sleep "$AUTORESEARCH_TEST_SLEEP"; node train.mjs');
      const A = startHost('host-a', a, ['--max-experiments', '6', '--seed', '1'], { AUTORESEARCH_TEST_SLEEP: '4' });
      await until(() => A.events.some((e) => e.type === 'study-started'), 'A to start');
      const B = startHost('host-b', b, ['--max-experiments', '6', '--seed', '2'], { AUTORESEARCH_TEST_SLEEP: '0.3' });
      await until(() => B.events.some((e) => e.type === 'study-started'), 'B to join');
      // A's experiment in flight (its run started, not finished) once B has joined
      const inFlight = () => {
        const runs = A.events.filter((e) => e.type === 'run-started' && (e.number as number) > 0);
        const last = runs.at(-1);
        const done = last && A.events.some((e) => e.type === 'experiment-finished' && e.number === last.number);
        return last && !done && Date.now() - (last.t as number) < 2500 ? (last.number as number) : null;
      };
      await until(() => inFlight() !== null, 'A to be running an experiment');
      const victim = inFlight()!;
      A.child.kill('SIGKILL');
      await A.exited;
      const row = (await experiments(db.url)).find((e) => e.number === victim)!;
      if (row.pgid) pgids.push(row.pgid); // A's orphaned run: it finishes unrecorded; killed below
      assert.equal(row.status, 'running');
      assert.equal(row.host, 'host-a');
      const code = await B.exited;
      assert.equal(code, 0, B.stderr());
      const took = B.events.find(
        (e) => e.type === 'notice' && String(e.message).startsWith(`took over experiment #${victim} from host host-a`),
      );
      assert.ok(took, `B took over #${victim}: ${JSON.stringify(B.events.filter((e) => e.type === 'notice'))}`);
      const all = await experiments(db.url);
      const v = all.find((e) => e.number === victim)!;
      assert.notEqual(v.status, 'running', 'finished');
      assert.equal(v.host, 'host-b');
      assert.ok(v.attempts >= 2, 'a resumed attempt');
      if (v.parentCommit === row.parentCommit && v.status !== 'conflict' && v.status !== 'rejected')
        assert.equal(v.commit, row.commit, "B ran A's very commit, rebuilt from the ledger");
      const finishedV = B.events.filter((e) => e.type === 'experiment-finished' && e.number === victim);
      assert.equal(finishedV.length, 1, 'finished once');
      assert.ok(
        all.every((e) => e.status !== 'running'),
        'nothing of A is left running',
      );
      assert.deepEqual(
        all.map((e) => e.number),
        [...all.keys()],
      );
    } finally {
      for (const g of pgids) if (liveGroupMembers(g).length) process.kill(-g, 'SIGKILL');
      await db.drop();
    }
  });

  it('status shows every host’s slots: host, slot, experiment, elapsed, and an expired lease', async () => {
    const db = await testDatabase('status');
    try {
      const [dir] = twoClones(db.url, '');
      const l = await PostgresLedger.open(db.url);
      try {
        const s = await l.openStudy({
          tag: 'test',
          branch: 'autoresearch/test',
          metric: 'val_bpb',
          direction: 'minimize',
          baseCommit: git(dir, ['rev-parse', 'HEAD']).trim(),
          protectedHashes: {},
          config: {},
        });
        const base = await l.createExperiment(s.id, { baseline: true, parentCommit: 'p', proposer: 'baseline' });
        await l.finishExperiment(base.id, { status: 'keep', value: 2, metrics: {} });
        const make = async (host: string, slot: number, ms: number, description: string) => {
          const e = await l.createExperiment(s.id, {
            baseline: false,
            parentCommit: 'p',
            proposer: 'x',
            description,
            slot,
            startedAt: Date.now() - 65_000,
            lease: { host, ms },
          });
          return e.number;
        };
        await make('lab-1', 0, 60_000, 'LR up');
        await make('lab-1', 1, 60_000, 'wider');
        await make('lab-2', 0, 1, 'dropout down');
        await l.createExperiment(s.id, {
          baseline: false,
          parentCommit: 'p',
          proposer: 'x',
          description: 'queued one',
          lease: { host: 'lab-2', ms: 60_000 },
        });
      } finally {
        await l.close();
      }
      await new Promise((r) => setTimeout(r, 20));
      const json = cli(['status', dir, '--json']);
      assert.equal(json.code, 0, json.stderr);
      const st = JSON.parse(json.stdout) as { hosts: Array<Record<string, unknown>> };
      assert.deepEqual(
        st.hosts.map((h) => [h.host, h.slot, h.number, h.leaseLive]),
        [
          ['lab-1', 0, 1, true],
          ['lab-1', 1, 2, true],
          ['lab-2', 0, 3, false],
        ],
      );
      assert.ok(st.hosts.every((h) => (h.elapsedMs as number) >= 65_000));
      const text = cli(['status', dir]);
      assert.equal(text.code, 0, text.stderr);
      assert.match(text.stdout, /running on 2 host\(s\):/);
      assert.match(text.stdout, /lab-1 {2}slot 1 {2}#2 {2}\d+:\d\d {2}wider/);
      assert.match(
        text.stdout,
        /lab-2 {2}slot 0 {2}#3 .*dropout down {2}\(lease expired: another host takes it over\)/,
      );
      assert.match(text.stdout, /3 running/);
    } finally {
      await db.drop();
    }
  });
});
