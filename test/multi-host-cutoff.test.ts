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
import { experiments, startHost, twoClones, until } from '../src/test-support/hosts.ts';
import { git } from '../src/test-support/landscape.ts';
import { testDatabase } from '../src/test-support/postgres.ts';
import { startTcpProxy } from '../src/test-support/tcp-proxy.ts';

const notices = (events: Array<Record<string, unknown>>, re: RegExp) =>
  events.filter((e) => e.type === 'notice' && re.test(String(e.message)));

describe('several hosts, one study: a host cut off from the database', () => {
  it('stops its runs before the lease ends; the other host takes over and records each experiment once; the cut-off host waits and goes on', {
    timeout: 300_000,
  }, async (t) => {
    const db = await testDatabase('cutoff');
    const proxy = await startTcpProxy(db.url);
    const pgids: number[] = [];
    try {
      // each host's run time comes from a file the test can change (AUTORESEARCH_* variables reach runs)
      const tmp = mkdtempSync(join(tmpdir(), 'ar-cutoff-'));
      const sleepA = join(tmp, 'a');
      const sleepB = join(tmp, 'b');
      writeFileSync(sleepA, '4');
      writeFileSync(sleepB, '1');
      const [a, b] = twoClones(db.url, 'lease_s = 2', 'sleep "$(cat "$AUTORESEARCH_TEST_SLEEP_FILE")"; node train.mjs');
      // host A reaches the database through the proxy (its own route to the server: a local
      // setting, so git is told to leave the edited autoresearch.toml alone)
      const toml = join(a, 'autoresearch.toml');
      writeFileSync(toml, readFileSync(toml, 'utf8').replace(db.url, proxy.url));
      git(a, ['update-index', '--skip-worktree', 'autoresearch.toml']);
      const args = (seed: string) => ['--max-experiments', '12', '--seed', seed];
      const A = startHost('host-a', a, args('1'), { AUTORESEARCH_TEST_SLEEP_FILE: sleepA });
      await until(() => A.events.some((e) => e.type === 'study-started'), 'A to start');
      const B = startHost('host-b', b, args('2'), { AUTORESEARCH_TEST_SLEEP_FILE: sleepB });
      await until(() => B.events.some((e) => e.type === 'study-started'), 'B to join');
      // A's experiment in flight: its run started less than 1.5 s ago (it lasts 4 s)
      const inFlight = () => {
        const last = A.events.filter((e) => e.type === 'run-started' && (e.number as number) > 0).at(-1);
        const done = last && A.events.some((e) => e.type === 'experiment-finished' && e.number === last.number);
        return last && !done && Date.now() - (last.t as number) < 1500 ? (last.number as number) : null;
      };
      await until(() => inFlight() !== null, 'A to be running an experiment');
      const victim = inFlight()!;
      let pgid: number | null = null;
      for (let i = 0; i < 50 && pgid === null; i++) {
        pgid = (await experiments(db.url)).find((e) => e.number === victim)?.pgid ?? null;
        if (pgid === null) await new Promise((r) => setTimeout(r, 50));
      }
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
      const v = all.find((e) => e.number === victim)!;
      assert.equal(v.host, 'host-b');
      // every experiment was recorded once: one finish event over both hosts, and the ledger agrees
      const finishes = new Map<number, number>();
      for (const e of [...A.events, ...B.events])
        if (e.type === 'experiment-finished')
          finishes.set(e.number as number, (finishes.get(e.number as number) ?? 0) + 1);
      assert.deepEqual(
        [...finishes.entries()].filter(([, n]) => n !== 1),
        [],
        'no experiment finished twice',
      );
      assert.deepEqual(
        [...finishes.keys()].sort((x, y) => x - y),
        all.map((e) => e.number),
      );
    } finally {
      for (const g of pgids) if (liveGroupMembers(g).length) process.kill(-g, 'SIGKILL');
      await proxy.close();
      await db.drop();
    }
  });
});
