/**
 * End to end on loopback (PostgreSQL, a hub listener in this process, the contributor a real
 * `autoresearch run` process): the study owner queues experiments with `autoresearch hub queue`
 * (one sound, one touching the protected prepare.mjs, one whose diff does not apply); the
 * contributor runs them as experiments of its study and posts each result for its work; and the
 * hub is stopped mid-run and started again on the same port and database: nothing is lost and
 * nothing is duplicated.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { loadConfig } from '../config/load.ts';
import { openLedger } from '../ledger/open.ts';
import { cli, cliAsync, cliCollect, waitForEvent } from '../test-support/cli.ts';
import { assertMirrored, hubRows } from '../test-support/hub-contributors.ts';
import { type TestDatabase, testDatabase } from '../test-support/postgres.ts';
import { migrateHub } from './schema.ts';
import { type RunningHub, startHub } from './serve.ts';
import { createContributor } from './tokens.ts';

let db: TestDatabase;
let pool: pg.Pool;
let hub: RunningHub;
const tokens: Record<string, string> = {};
const tmp = mkdtempSync(join(tmpdir(), 'hub-queued-'));

before(async () => {
  db = await testDatabase('hubqueued');
  pool = new pg.Pool({ connectionString: db.url, max: 2 });
  await migrateHub(pool);
  for (const name of ['owner', 'alice']) {
    const t = await createContributor(pool, name, Date.now());
    assert.ok(t.kind === 'created');
    tokens[name] = t.token;
  }
  hub = await startHub({ db: db.url, port: 0 });
});
after(async () => {
  await hub?.close();
  await pool?.end();
  await db?.drop();
  rmSync(tmp, { recursive: true, force: true });
});

const as = (who: string, input?: string) => ({
  env: { AUTORESEARCH_HUB_TOKEN: tokens[who]!, AUTORESEARCH_HOST_ID: `host-${who}` },
  ...(input !== undefined ? { input } : {}),
});
const git = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, encoding: 'utf8' }).trim();

/** The owner's change as `git diff` prints it (the workspace is reset afterwards). */
function diffIn(ws: string, edits: Record<string, (text: string) => string>): string {
  for (const [file, edit] of Object.entries(edits)) {
    const text = readFileSync(join(ws, file), 'utf8');
    const changed = edit(text);
    assert.notEqual(changed, text, `${file} changed`);
    writeFileSync(join(ws, file), changed);
  }
  const diff = `${git(ws, 'diff')}\n`;
  git(ws, 'checkout', '--', '.');
  return diff;
}

describe('owner-queued experiments and a hub restart mid-study (real processes)', () => {
  it('runs queued work through the usual checks, posts each result for its work, and loses or duplicates nothing across a hub restart', async () => {
    const owner = join(tmp, 'owner');
    assert.equal(cli(['init', owner, '--template', 'landscape']).code, 0);
    const pub = await cliCollect(['publish', owner, '--hub', hub.url, '--tolerance', '0.01', '--json'], as('owner'));
    assert.equal(pub.code, 0, pub.stderr);
    const { id: studyId, url } = JSON.parse(pub.stdout) as { id: string; url: string };
    const alice = join(tmp, 'alice');
    assert.equal((await cliCollect(['join', url, alice], as('alice'))).code, 0);
    const base = git(owner, 'rev-parse', 'HEAD');
    // alice's own search never touches DEPTH or the lines next to it: a kept or tried move there
    // would make the sound change a conflict or a duplicate, and this test is about the hub's part.
    const aliceToml = join(alice, 'autoresearch.toml');
    const exclude = 'exclude = ["DEPTH", "WIDTH", "WARMUP_RATIO"]';
    const toml = readFileSync(aliceToml, 'utf8');
    writeFileSync(
      aliceToml,
      /^\[proposer\]$/m.test(toml)
        ? toml.replace(/^\[proposer\]$/m, `[proposer]\n${exclude}`)
        : `${toml}\n[proposer]\n${exclude}\n`,
    );
    assert.ok(loadConfig(alice).ok, 'the edited config loads');

    const sound = diffIn(owner, { 'train.mjs': (t) => t.replace('const DEPTH = 3;', 'const DEPTH = 4;') });
    const cheat = diffIn(owner, {
      'train.mjs': (t) => t.replace('const WIDTH = 64;', 'const WIDTH = 128;'),
      'prepare.mjs': (t) => `${t}\n// the evaluation, edited by a queued change\n`,
    });
    const stale = sound.replace('-const DEPTH = 3;', '-const DEPTH = 30;');
    const queued: Record<string, number> = {};
    for (const [name, diff] of Object.entries({ sound, cheat, stale })) {
      const q = await cliCollect(
        ['hub', 'queue', url, '--diff', '-', '--parent', base, '--description', `${name} change`, '--json'],
        as('owner', diff),
      );
      assert.equal(q.code, 0, q.stderr);
      queued[name] = (JSON.parse(q.stdout) as { workId: number }).workId;
    }

    // alice runs; the hub is stopped after her first experiment and started again after her next.
    const port = hub.port;
    const child = cliAsync(['run', alice, '-n', '8', '--json'], as('alice'));
    let stdout = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
    const finished = (n: number) => (e: Record<string, unknown>) =>
      e.type === 'experiment-finished' && !e.baseline && Number(e.number) >= n;
    const first = await waitForEvent(child, finished(1));
    await hub.close();
    await waitForEvent(child, finished(Number(first.number) + 1));
    hub = await startHub({ db: db.url, port });
    assert.equal(await exited, 0, stderr);

    const events = stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { type: string; message?: string });
    const notices = events.filter((e) => e.type === 'notice').map((e) => e.message ?? '');
    assert.ok(
      notices.some((m) => /hub unreachable/.test(m)),
      `a post met the stopped hub:\n${notices.join('\n')}`,
    );
    assert.ok(
      notices.some((m) => /hub reachable again/.test(m)),
      'and went through once it was back',
    );

    // Nothing lost, nothing duplicated: one hub result per decided local experiment.
    const count = await assertMirrored(pool, studyId, 'alice', alice);
    assert.ok(count >= 5, `baseline and experiments posted (${count})`);

    // Each queued experiment: done on the hub, with exactly one result for it, from alice.
    const rows = await hubRows(pool, studyId, 'alice');
    for (const [name, id] of Object.entries(queued)) {
      const w = await pool.query('SELECT state FROM hub_work WHERE id = $1', [id]);
      assert.equal(w.rows[0].state, 'done', `${name}: its work is done`);
      assert.equal(rows.filter((r) => Number(r.work_id) === id).length, 1, `${name}: one result for its work`);
    }
    const resultOf = (name: string) => rows.find((r) => Number(r.work_id) === queued[name])!;
    assert.equal(resultOf('cheat').status, 'rejected');
    assert.equal(resultOf('stale').status, 'rejected');
    assert.ok(['keep', 'discard'].includes(resultOf('sound').status), resultOf('sound').status);

    // ... and in the local ledger, as experiments of the study with proposer "hub-queued".
    const loaded = loadConfig(alice);
    assert.ok(loaded.ok);
    const ledger = await openLedger(loaded.config.ledger.url, { root: alice });
    try {
      const study = (await ledger.getStudy(loaded.config.study.tag))!;
      const mine = (await ledger.listExperiments(study.id)).filter((e) => e.proposer === 'hub-queued');
      const byName = (name: string) => mine.find((e) => e.description.includes(`): ${name} change`))!;
      assert.equal(mine.length, 3, JSON.stringify(mine.map((e) => [e.description, e.status, e.reason])));
      assert.ok(['keep', 'discard'].includes(byName('sound').status), 'the sound change ran and was judged');
      assert.match(byName('sound').diff, /\+const DEPTH = 4;/);
      assert.equal(byName('cheat').status, 'rejected');
      assert.equal(byName('cheat').reason, 'the proposal touched file(s) outside [files].editable: prepare.mjs');
      assert.equal(byName('cheat').commit, null, 'never committed, never run');
      assert.equal(byName('stale').status, 'rejected');
      assert.match(
        byName('stale').reason,
        /^the proposer failed: queued on the hub \(work #\d+\): stale change: conflict: the diff does not apply/,
      );
    } finally {
      await ledger.close();
    }
  });
});
