/**
 * Several hosts, one study: a host cut off from PostgreSQL (a TCP proxy between it and the
 * server, closed by the test) stops its runs before its leases run out, the other host takes
 * them over and records each once, and the cut-off host waits for the database and goes on.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { liveGroupMembers } from '../src/test-support/cli.ts';
import type { Experiment } from '../src/ledger/types.ts';
import { experiments, type Host, startHost, twoClones, until } from '../src/test-support/hosts.ts';
import { git } from '../src/test-support/landscape.ts';
import { testDatabase } from '../src/test-support/postgres.ts';
import { startTcpProxy } from '../src/test-support/tcp-proxy.ts';

const notices = (events: Array<Record<string, unknown>>, re: RegExp) =>
  events.filter((e) => e.type === 'notice' && re.test(String(e.message)));

/**
 * Two hosts on one study: A reaches PostgreSQL through the proxy (its own route to the server: a
 * local setting, so git is told to leave the edited autoresearch.toml alone), B directly. Each
 * host's run time is read from a file the test can change (A: `firstSleepA` s, B: 1 s).
 */
async function lab(dbUrl: string, proxyUrl: string, max: number, firstSleepA: string) {
  const tmp = mkdtempSync(join(tmpdir(), 'ar-cutoff-'));
  const sleepA = join(tmp, 'a');
  const sleepB = join(tmp, 'b');
  writeFileSync(sleepA, firstSleepA);
  writeFileSync(sleepB, '1');
  const [a, b] = twoClones(dbUrl, 'lease_s = 2', 'sleep "$(cat "$AUTORESEARCH_TEST_SLEEP_FILE")"; node train.mjs');
  const toml = join(a, 'autoresearch.toml');
  writeFileSync(toml, readFileSync(toml, 'utf8').replace(dbUrl, proxyUrl));
  git(a, ['update-index', '--skip-worktree', 'autoresearch.toml']);
  const args = (seed: string) => ['--max-experiments', String(max), '--seed', seed];
  const A = startHost('host-a', a, args('1'), { AUTORESEARCH_TEST_SLEEP_FILE: sleepA });
  await until(() => A.events.some((e) => e.type === 'study-started'), 'A to start');
  const B = startHost('host-b', b, args('2'), { AUTORESEARCH_TEST_SLEEP_FILE: sleepB });
  await until(() => B.events.some((e) => e.type === 'study-started'), 'B to join');
  return { A, B, sleepA };
}

/** The process group of an experiment's run, once the ledger has it. */
async function pgidOf(url: string, number: number): Promise<number> {
  for (let i = 0; i < 100; i++) {
    const pgid = (await experiments(url)).find((e) => e.number === number)?.pgid ?? null;
    if (pgid !== null) return pgid;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no process group recorded for #${number}`);
}

/** Every experiment finished, numbered without gaps, and recorded once: one finish event over both hosts. */
async function recordedOnce(url: string, A: Host, B: Host): Promise<Experiment[]> {
  const all = await experiments(url);
  assert.deepEqual(
    all.map((e) => e.number),
    [...all.keys()],
    'numbers 0..n-1, no gaps',
  );
  assert.ok(
    all.every((e) => e.status !== 'running'),
    'nothing left running',
  );
  const finishes = new Map<number, number>();
  for (const e of [...A.events, ...B.events])
    if (e.type === 'experiment-finished') finishes.set(e.number as number, (finishes.get(e.number as number) ?? 0) + 1);
  assert.deepEqual(
    [...finishes.entries()].filter(([, n]) => n !== 1),
    [],
    'no experiment finished twice',
  );
  assert.deepEqual(
    [...finishes.keys()].sort((x, y) => x - y),
    all.map((e) => e.number),
  );
  return all;
}

describe('several hosts, one study: a host cut off from the database', () => {
  it('stops its runs before the lease ends; the other host takes over and records each experiment once; the cut-off host waits and goes on', {
    timeout: 300_000,
  }, async (t) => {
    const db = await testDatabase('cutoff');
    const proxy = await startTcpProxy(db.url);
    const pgids: number[] = [];
    try {
      const { A, B, sleepA } = await lab(db.url, proxy.url, 12, '1');
      // once A's baseline is recorded, A's runs last 30 s: the cut comes while one is in flight
      await until(() => A.events.some((e) => e.type === 'experiment-finished' && e.number === 0), 'the baseline');
      const slowFrom = Date.now();
      writeFileSync(sleepA, '30');
      const inFlight = () => {
        const last = A.events.filter((e) => e.type === 'run-started' && (e.t as number) > slowFrom).at(-1);
        return last ? (last.number as number) : null;
      };
      await until(() => inFlight() !== null, 'A to be running an experiment');
      const victim = inFlight()!;
      const pgid = await pgidOf(db.url, victim);
      assert.ok(pgid, 'A recorded its run’s process group');
      pgids.push(pgid);
      assert.ok(liveGroupMembers(pgid).length > 0, 'A’s run is alive before the cut');

      const cutAt = Date.now();
      await proxy.cut();
      const tookRe = new RegExp(`^took over experiment #${victim} from host host-a`);
      await until(() => notices(B.events, tookRe).length > 0, `B to take #${victim} over`, 60_000);
      // A stopped its run before B could take it over
      assert.deepEqual(liveGroupMembers(pgid), [], 'A’s run was stopped before B took it over');
      const took = notices(B.events, tookRe)[0]!;
      const stopped = notices(A.events, new RegExp(`lease of experiment #${victim} was last renewed`));
      assert.equal(stopped.length, 1, JSON.stringify(notices(A.events, /./)));
      assert.ok((stopped[0]!.t as number) < (took.t as number), 'A stopped it first');
      const stopS = ((stopped[0]!.t as number) - cutAt) / 1000;
      assert.ok(
        stopS <= 1.5 + 1,
        `A stopped its run ${stopS} s after the cut (3/4 of lease_s = 1.5 s after the last renewal)`,
      );
      assert.equal(notices(A.events, /^the ledger is unreachable/).length, 1, 'A says it waits for the ledger');
      t.diagnostic(
        `lease_s = 2: A stopped its run ${stopS.toFixed(2)} s after the cut, B took it over ${(((took.t as number) - cutAt) / 1000).toFixed(2)} s after the cut`,
      );
      assert.equal(A.child.exitCode, null, 'A keeps running, waiting');

      // the database comes back for A once B has recorded the experiment; A's runs get quick
      await until(
        () => B.events.some((e) => e.type === 'experiment-finished' && e.number === victim),
        `B to finish #${victim}`,
        60_000,
      );
      writeFileSync(sleepA, '0.2');
      const restoredAt = Date.now();
      await proxy.restore();
      const codes = await Promise.all([A.exited, B.exited]);
      assert.deepEqual(codes, [0, 0], `A: ${A.stderr()}\nB: ${B.stderr()}`);
      assert.equal(notices(A.events, /^the ledger answers again after/).length, 1);
      assert.ok(
        A.events.some((e) => e.type === 'experiment-finished' && (e.t as number) > restoredAt),
        'A went on after the database came back',
      );
      assert.ok(!A.events.some((e) => e.type === 'experiment-finished' && e.number === victim));

      const all = await recordedOnce(db.url, A, B);
      assert.equal(all.find((e) => e.number === victim)!.host, 'host-b');
    } finally {
      for (const g of pgids) if (liveGroupMembers(g).length) process.kill(-g, 'SIGKILL');
      await proxy.close();
      await db.drop();
    }
  });

  it('cut off during its baseline: the other host runs the baseline once; the cut-off host then joins the study', {
    timeout: 300_000,
  }, async () => {
    const db = await testDatabase('cutbase');
    const proxy = await startTcpProxy(db.url);
    const pgids: number[] = [];
    try {
      // A's baseline lasts 30 s (the cut stops it): B has time to join and wait for it
      const { A, B, sleepA } = await lab(db.url, proxy.url, 8, '30');
      await until(() => A.events.some((e) => e.type === 'run-started' && e.number === 0), 'A to run the baseline');
      const pgid = await pgidOf(db.url, 0);
      pgids.push(pgid);
      await until(() => notices(B.events, /^waiting for host host-a's baseline/).length > 0, 'B to wait for it');
      await proxy.cut();
      await until(
        () => B.events.some((e) => e.type === 'experiment-started' && e.number === 0),
        'B to take the baseline',
        60_000,
      );
      assert.deepEqual(liveGroupMembers(pgid), [], 'A’s baseline run was stopped before B took it');
      assert.equal(notices(A.events, /lease of experiment #0 was last renewed/).length, 1);
      await until(
        () => B.events.some((e) => e.type === 'experiment-finished' && e.number === 0),
        'B to record the baseline',
        60_000,
      );
      writeFileSync(sleepA, '0.2');
      const restoredAt = Date.now();
      await proxy.restore();
      const codes = await Promise.all([A.exited, B.exited]);
      assert.deepEqual(codes, [0, 0], `A: ${A.stderr()}\nB: ${B.stderr()}`);
      assert.ok(!A.events.some((e) => e.type === 'experiment-finished' && e.number === 0), 'A did not record it');
      assert.ok(
        A.events.some((e) => e.type === 'run-started' && (e.number as number) > 0 && (e.t as number) > restoredAt),
        'A ran experiments once the database was back',
      );
      const all = await recordedOnce(db.url, A, B);
      assert.equal(all.filter((e) => e.baseline).length, 1, 'one baseline');
      assert.equal(all[0]!.host, 'host-b');
    } finally {
      for (const g of pgids) if (liveGroupMembers(g).length) process.kill(-g, 'SIGKILL');
      await proxy.close();
      await db.drop();
    }
  });
});
