/**
 * End to end on loopback: PostgreSQL (the test cluster), a real hub listener in this process, and
 * contributors as real `autoresearch` processes (join + run), each its own workspace and token.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { loadConfig } from '../config/load.ts';
import { openLedger } from '../ledger/open.ts';
import * as shared from '../test-support/hub-contributors.ts';
import { hostId } from '../loop/host-id.ts';
import { type CliResult, cli, cliAsync, waitForEvent } from '../test-support/cli.ts';
import { type TestDatabase, testDatabase } from '../test-support/postgres.ts';
import { migrateHub } from './schema.ts';
import { type RunningHub, startHub } from './serve.ts';
import { createContributor } from './tokens.ts';
import { detectPlatform } from './platform.ts';

let db: TestDatabase;
let pool: pg.Pool;
let hub: RunningHub;
const tokens: Record<string, string> = {};
const tmp = mkdtempSync(join(tmpdir(), 'hub-contribute-'));

before(async () => {
  db = await testDatabase('hubrun');
  pool = new pg.Pool({ connectionString: db.url, max: 2 });
  await migrateHub(pool);
  for (const name of ['owner', 'alice', 'bob', 'carol', 'forger', 'dave', 'erin']) {
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

function collect(child: ReturnType<typeof cliAsync>): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
}
const as = (who: string) => ({ env: { AUTORESEARCH_HUB_TOKEN: tokens[who]!, AUTORESEARCH_HOST_ID: `host-${who}` } });
const cliRun = (args: string[], who: string) => collect(cliAsync(args, as(who)));
const git = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, encoding: 'utf8' }).trim();

const localDecided = (ws: string) => shared.localDecided(ws);
const hubRows = (studyId: string, who: string) => shared.hubRows(pool, studyId, who);
const assertMirrored = (studyId: string, who: string, ws: string) => shared.assertMirrored(pool, studyId, who, ws);

describe('autoresearch run in a joined workspace (hub contributors, real processes)', () => {
  it('posts every decided experiment once, survives kill -9, verifies others, and a forgery never moves the frontier', async () => {
    const owner = join(tmp, 'owner');
    assert.equal(cli(['init', owner, '--template', 'landscape']).code, 0);
    const pub = await cliRun(['publish', owner, '--hub', hub.url, '--tolerance', '0.01', '--json'], 'owner');
    assert.equal(pub.code, 0, pub.stderr);
    const { id: studyId, url } = JSON.parse(pub.stdout) as { id: string; url: string };
    const ws: Record<string, string> = {};
    for (const who of ['alice', 'bob', 'carol']) {
      ws[who] = join(tmp, who);
      const j = await cliRun(['join', url, ws[who]!], who);
      assert.equal(j.code, 0, j.stderr);
    }
    const base = git(ws.alice!, 'rev-parse', 'HEAD');

    // alice: a first run, killed -9 once she has decided two experiments, then resumed.
    const first = cliAsync(['run', ws.alice!, '-n', '6', '--json'], as('alice'));
    const done = collect(first);
    await waitForEvent(first, (e) => e.type === 'experiment-finished' && !e.baseline && Number(e.number) >= 2);
    first.kill('SIGKILL');
    await done;
    const resumed = await cliRun(['run', ws.alice!, '-n', '4', '--json'], 'alice');
    assert.equal(resumed.code, 0, resumed.stderr);
    const aliceCount = await assertMirrored(studyId, 'alice', ws.alice!);
    assert.ok(aliceCount >= 3, `alice posted her baseline and her experiments that made a commit (${aliceCount})`);
    const aliceRows = await hubRows(studyId, 'alice');
    assert.equal(
      aliceRows.find((r) => r.status === 'baseline')?.verification,
      'provisional',
      'her baseline awaits a verifier',
    );

    // The forger posts, with a token, a change claimed far better than it is.
    const platform = detectPlatform(ws.alice!);
    const forgedDiff = fakeDiff(ws.alice!);
    const forged = await fetch(`${hub.url}/studies/${studyId}/results`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokens.forger}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        id: 'forged-result-1',
        parent: base,
        commit: 'f'.repeat(40),
        diff: forgedDiff,
        value: 0.5,
        status: 'keep',
        description: 'a miracle',
        platform,
      }),
    });
    assert.equal(forged.status, 201);

    // bob and carol run: between their experiments they verify alice's claims and the forgery.
    for (const [who, n] of [
      ['bob', 4],
      ['carol', 4],
      ['bob', 8],
      ['carol', 8],
    ] as const) {
      const r = await cliRun(['run', ws[who]!, '-n', String(n), '--json'], who);
      assert.equal(r.code, 0, r.stderr);
      if (await settled(studyId)) break;
    }
    await assertMirrored(studyId, 'bob', ws.bob!);
    await assertMirrored(studyId, 'carol', ws.carol!);

    const f = await pool.query('SELECT best_commit, best_value, moves FROM hub_frontier WHERE study_id = $1', [
      studyId,
    ]);
    assert.equal(f.rows.length, 1, 'one platform: one frontier');
    assert.notEqual(f.rows[0].best_commit, 'f'.repeat(40), 'the forgery never moves the frontier');
    assert.ok(f.rows[0].moves >= 1, `verified honest claims moved the frontier (moves ${f.rows[0].moves})`);
    assert.ok(f.rows[0].best_value > 0.9, 'a real value, not the forged 0.5');
    const flagged = await pool.query(`SELECT flagged_at FROM hub_contributors WHERE name = 'forger'`);
    assert.notEqual(flagged.rows[0].flagged_at, null, 'two verifiers disagreed with the forger: flagged');
    const forgedRow = await pool.query(`SELECT verification FROM hub_results WHERE id = 'forged-result-1'`);
    assert.equal(forgedRow.rows[0].verification, 'failed');
    // Claims are verified by someone else, never by their claimer.
    const aliceBaseline = (await hubRows(studyId, 'alice')).find((r) => r.status === 'baseline');
    assert.equal(aliceBaseline?.verification, 'verified', "alice's baseline (the first claimed) was verified");
    const verifiers = await pool.query(
      `SELECT v.contributor_id AS verifier, c.contributor_id AS claimer FROM hub_results v JOIN hub_results c ON c.id = v.verifies
       WHERE v.study_id = $1`,
      [studyId],
    );
    assert.ok(verifiers.rows.length >= 3);
    for (const r of verifiers.rows) assert.notEqual(r.verifier, r.claimer, 'nobody verifies their own claim');
    const best = await pool.query(
      `SELECT r.status, r.verification FROM hub_frontier f JOIN hub_results r ON r.id = f.best_result_id WHERE f.study_id = $1`,
      [studyId],
    );
    assert.deepEqual(best.rows[0], { status: 'keep', verification: 'verified' }, 'the best is a verified keep');
    assert.equal(hostId('/x', { AUTORESEARCH_HOST_ID: 'host-alice' }), 'host-alice');

    // erin joins late: the hub's verified best (better than her baseline) becomes her local best.
    const bestRow = await pool.query(
      `SELECT f.best_commit, f.best_value, c.name FROM hub_frontier f JOIN hub_results r ON r.id = f.best_result_id
       JOIN hub_contributors c ON c.id = r.contributor_id WHERE f.study_id = $1`,
      [studyId],
    );
    const { best_commit: hubBest, best_value: hubValue, name: claimer } = bestRow.rows[0];
    ws.erin = join(tmp, 'erin');
    assert.equal((await cliRun(['join', url, ws.erin], 'erin')).code, 0);
    const late = await cliRun(['run', ws.erin, '-n', '1', '--json'], 'erin');
    assert.equal(late.code, 0, late.stderr);
    assert.match(late.stdout, /hub: from hub: [0-9a-f]{12} by \w+ \(verified [\d.]+\): now the local best/);
    const loaded = loadConfig(ws.erin);
    assert.ok(loaded.ok);
    const ledger = await openLedger(loaded.config.ledger.url, { root: ws.erin });
    try {
      const study = (await ledger.getStudy(loaded.config.study.tag))!;
      const imported = (await ledger.listExperiments(study.id)).find((e) => e.proposer === 'hub');
      assert.ok(imported, 'an imported keep in the local ledger');
      assert.equal(imported.status, 'keep');
      assert.equal(imported.value, hubValue);
      assert.match(imported.description, new RegExp(`^from hub: ${hubBest.slice(0, 12)} by ${claimer} `));
      assert.equal(study.bestCommit, imported.commit, 'the local best is the import');
      assert.equal(
        git(ws.erin, 'rev-parse', `${imported.commit}^{tree}`),
        git(ws[claimer]!, 'rev-parse', `${hubBest}^{tree}`),
        'the same code as the hub best',
      );
      assert.equal(git(ws.erin, 'rev-parse', study.branch), imported.commit, 'the study branch moved there');
    } finally {
      await ledger.close();
    }
    const erinRows = await hubRows(studyId, 'erin');
    assert.ok(!erinRows.some((r) => r.commit === hubBest), 'the import is not posted back');
  });
});

describe('a contributor whose hub is down', () => {
  it('keeps running (a notice), queues its results, and posts them once the hub answers again', async () => {
    const owner = join(tmp, 'owner2');
    assert.equal(cli(['init', owner, '--template', 'landscape']).code, 0);
    const hub2 = await startHub({ db: db.url, port: 0 });
    const port = Number(new URL(hub2.url).port);
    const pub = await cliRun(['publish', owner, '--hub', hub2.url, '--tolerance', '0.01', '--json'], 'owner');
    assert.equal(pub.code, 0, pub.stderr);
    const { id: studyId, url } = JSON.parse(pub.stdout) as { id: string; url: string };
    const dave = join(tmp, 'dave');
    assert.equal((await cliRun(['join', url, dave], 'dave')).code, 0);
    await hub2.close();
    const offline = await cliRun(['run', dave, '-n', '2', '--json'], 'dave');
    assert.equal(offline.code, 0, offline.stderr);
    const notices = offline.stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { type: string; message?: string })
      .filter((e) => e.type === 'notice' && /hub unreachable/.test(e.message ?? ''));
    assert.equal(notices.length, 1, 'one notice while the hub stays down, not one per result');
    const queueFile = join(dave, '.autoresearch', 'hub-queue.json');
    assert.ok(existsSync(queueFile));
    const queued = JSON.parse(readFileSync(queueFile, 'utf8')) as unknown[];
    assert.equal(queued.length, (await localDecided(dave)).length, 'every decided experiment waits in the queue');
    assert.equal((await hubRows(studyId, 'dave')).length, 0);

    const hub3 = await startHub({ db: db.url, port });
    // With [hub] verify = false, dave runs no verification work (the owner's claim stays queued).
    writeFileSync(
      join(dave, 'autoresearch.toml'),
      `${readFileSync(join(dave, 'autoresearch.toml'), 'utf8')}verify = false\n`,
    );
    const base = git(dave, 'rev-parse', 'HEAD');
    const claim = await fetch(`${hub3.url}/studies/${studyId}/results`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokens.owner}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        id: 'owner-claim-1',
        parent: base,
        commit: base,
        diff: '',
        value: 1.2,
        status: 'baseline',
        description: 'baseline',
        platform: detectPlatform(dave),
      }),
    });
    assert.equal(claim.status, 201);
    try {
      const online = await cliRun(['run', dave, '-n', '3', '--json'], 'dave');
      assert.equal(online.code, 0, online.stderr);
      assert.match(online.stdout, /hub reachable again/);
      assert.deepEqual(JSON.parse(readFileSync(queueFile, 'utf8')), [], 'the queue is flushed');
      await assertMirrored(studyId, 'dave', dave);
      assert.ok(!(await hubRows(studyId, 'dave')).some((r) => r.kind === 'verification'), 'verify = false: none');
      const work = await pool.query(`SELECT state FROM hub_work WHERE claim_id = 'owner-claim-1'`);
      assert.deepEqual(work.rows, [{ state: 'queued' }]);
    } finally {
      await hub3.close();
    }
  });
});

/** The forgery decided and no verification of it pending. */
async function settled(studyId: string): Promise<boolean> {
  const r = await pool.query(
    `SELECT (SELECT verification FROM hub_results WHERE id = 'forged-result-1') AS forged,
            (SELECT moves FROM hub_frontier WHERE study_id = $1 LIMIT 1) AS moves`,
    [studyId],
  );
  return r.rows[0].forged === 'failed' && (r.rows[0].moves ?? 0) >= 1;
}

/** A real change to train.mjs (from the landscape template), as a diff against the baseline. */
function fakeDiff(ws: string): string {
  const scratch = mkdtempSync(join(tmpdir(), 'hub-forge-'));
  try {
    git(scratch, 'init', '-q');
    execFileSync('git', ['-C', scratch, 'fetch', '-q', ws, 'HEAD']);
    git(scratch, 'checkout', '-q', 'FETCH_HEAD');
    const file = join(scratch, 'train.mjs');
    const text = execFileSync('cat', [file], { encoding: 'utf8' });
    const changed = text.replace(/(const \w+ = )(\d+(?:\.\d+)?)/, (_m, a: string, n: string) => `${a}${Number(n) * 2}`);
    assert.notEqual(changed, text, 'the forger changed something');
    execFileSync('sh', ['-c', `cat > ${JSON.stringify(file)}`], { input: changed });
    return `${git(scratch, 'diff')}\n`;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
