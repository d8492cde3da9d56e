/**
 * `status --hub` and `results --hub` through the real CLI (child processes) against a real hub
 * listener over PostgreSQL: a study published and joined with the real commands, results from
 * five contributors on two platforms (verified keeps, a claim still waiting), every documented
 * example, and the failures (no token, bad token, unknown study, hub down, not joined), each one
 * line and a non-zero exit.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { HubClient, type ResultInput } from '../hub/client.ts';
import { migrateHub } from '../hub/schema.ts';
import { type RunningHub, startHub } from '../hub/serve.ts';
import { createContributor } from '../hub/tokens.ts';
import { platformKey } from '../hub/wire.ts';
import { type CliResult, cli, cliAsync } from '../test-support/cli.ts';
import { CPU, fakeSha, GPU } from '../test-support/hub.ts';
import { type TestDatabase, testDatabase } from '../test-support/postgres.ts';

let db: TestDatabase;
let hub: RunningHub;
const tokens: Record<string, string> = {};
const tmp = mkdtempSync(join(tmpdir(), 'status-hub-'));
let url = '';
let studyId = '';
let base = '';
let joined = '';

function cliRun(args: string[], env: Record<string, string> = { AUTORESEARCH_HUB_TOKEN: tokens.carol! }) {
  const child = cliAsync(args, { env });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise<CliResult>((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
}

const client = (who: string) => new HubClient({ url: hub.url, token: tokens[who]! });
async function post(who: string, r: Partial<ResultInput>) {
  const out = await client(who).postResult(studyId, {
    parent: base,
    commit: fakeSha(1),
    diff: '+x\n',
    value: 1,
    status: 'discard',
    platform: CPU,
    ...r,
  });
  assert.equal(out.kind, 'posted', JSON.stringify(out));
}
async function verify(who: string, value: number, platform = CPU) {
  const w = await client(who).getWork(studyId, platform);
  assert.ok(w.kind === 'ok' && w.value?.kind === 'verification', `${who}: ${JSON.stringify(w)}`);
  const work = w.value!;
  await post(who, { workId: work.id, parent: work.parent, commit: work.commit!, diff: work.diff, value, platform });
}

before(async () => {
  db = await testDatabase('statushub');
  const pool = new pg.Pool({ connectionString: db.url, max: 1 });
  await migrateHub(pool);
  for (const n of ['alice', 'bob', 'carol', 'gina', 'hank', 'mallory']) {
    const t = await createContributor(pool, n, Date.now());
    assert.ok(t.kind === 'created');
    tokens[n] = t.token;
  }
  await pool.end();
  hub = await startHub({ db: db.url, port: 0 });
  const ws = join(tmp, 'ws');
  assert.equal(cli(['init', ws, '--template', 'landscape']).code, 0);
  const pub = await cliRun(['publish', ws, '--hub', hub.url, '--tolerance', '0.01', '--name', 'land', '--json'], {
    AUTORESEARCH_HUB_TOKEN: tokens.alice!,
  });
  assert.equal(pub.code, 0, pub.stderr);
  ({ url, id: studyId } = JSON.parse(pub.stdout));
  const st = await client('alice').study(studyId);
  assert.ok(st.kind === 'ok');
  base = st.value.baselineCommit as string;
  joined = join(tmp, 'joined');
  const j = await cliRun(['join', url, joined]);
  assert.equal(j.code, 0, j.stderr);

  await post('alice', { status: 'baseline', commit: base, value: 1.0, description: 'baseline' });
  await verify('bob', 1.004);
  await post('alice', { commit: fakeSha(2), diff: '+lr\n', value: 0.95, status: 'keep', description: 'lr up' });
  await verify('bob', 0.952);
  await post('gina', { status: 'baseline', commit: base, value: 0.8, platform: GPU, description: 'baseline' });
  await verify('hank', 0.801, GPU);
  await post('mallory', { commit: fakeSha(3), value: 0.123456, status: 'keep', description: 'miracle' });
  await post('bob', { commit: fakeSha(4), value: 1.2, status: 'discard', description: 'wider\tmlp\nnewline\u001b[2J' });
});
after(async () => {
  await hub.close();
  await db.drop();
  rmSync(tmp, { recursive: true, force: true });
});

describe('status --hub', () => {
  it('prints the study across contributors as JSON and as text, from a study URL or a joined workspace', async () => {
    const j = await cliRun(['status', '--hub', url, '--json']);
    assert.equal(j.code, 0, j.stderr);
    const s = JSON.parse(j.stdout);
    assert.equal(s.url, url);
    assert.equal(s.study.name, 'land');
    assert.equal(s.platforms.length, 2);
    const cpu = s.platforms.find((p: { platformKey: string }) => p.platformKey === platformKey(CPU));
    assert.equal(cpu.best.value, 0.952);
    assert.equal(cpu.chainLength, 2);
    const miracle = s.recent.find((r: { description: string }) => r.description === 'miracle');
    assert.equal(miracle.value, null, 'a claim waiting for verification shows no value');
    assert.equal(s.counts.provisional, 1);
    assert.equal(s.work.verificationsQueued, 1);
    assert.deepEqual(
      s.contributors.map((c: { name: string; verifiedKeeps: number }) => [c.name, c.verifiedKeeps]).slice(0, 1),
      [['alice', 1]],
    );

    const t = await cliRun(['status', '--hub', joined]);
    assert.equal(t.code, 0, t.stderr);
    assert.match(t.stdout, new RegExp(`^hub study land — \\S+, minimize, tolerance 0\\.01 — ${url}\n`));
    assert.match(
      t.stdout,
      /P\d Test CPU 9000 \(node 20\) \[[0-9a-f]{16}\]\n {3}verified best 0\.952000 at c{7} — chain of 2, 2 move\(s\)/,
    );
    assert.match(t.stdout, /P\d 1x H200 \(torch 2\.11\)/);
    assert.match(t.stdout, /c{7} 0\.952000 {2}alice: lr up/);
    assert.match(t.stdout, /mallory +P\d +keep +provisional +hidden {2}miracle/);
    assert.ok(!t.stdout.includes('0.123456'), 'the claimed value appears nowhere');
    assert.match(t.stdout, /hank +P\d +verify +agreed +0\.801000 {2}re-run of [0-9a-f]{7}\n/);
    assert.match(t.stdout, /wider mlp newline \[2J\n/, 'contributor text is printed on one line, without escapes');
    assert.match(t.stdout, /1 claim\(s\) waiting for verification; work: 1 verification\(s\) queued/);
    assert.match(t.stdout, /\n {2}bob +\d+ +0 +2 {2}no\n/);
    // the documented example: status --hub myproj (a joined workspace, its [hub] section)
    assert.equal((await cliRun(['status', '--hub', joined, '--recent', '2', '--json'])).code, 0);
  });

  it('says in one line what to do when the hub is down, the token is bad or missing, or the study is unknown', async () => {
    const cases: Array<[string[], Record<string, string>, RegExp]> = [
      [
        ['status', '--hub', `http://127.0.0.1:1/studies/${studyId}`],
        { AUTORESEARCH_HUB_TOKEN: tokens.carol! },
        /^autoresearch: cannot reach the hub at http:\/\/127\.0\.0\.1:1 .*is it running\?/,
      ],
      [
        ['status', '--hub', url],
        { AUTORESEARCH_HUB_TOKEN: `arh_${'x'.repeat(43)}` },
        /^autoresearch: the hub at .* refused the token: unknown token.*set AUTORESEARCH_HUB_TOKEN/,
      ],
      [['results', '--hub', url], { AUTORESEARCH_HUB_TOKEN: '' }, /^autoresearch: set AUTORESEARCH_HUB_TOKEN/],
      [
        ['results', '--hub', `${hub.url}/studies/${randomUUID()}`],
        { AUTORESEARCH_HUB_TOKEN: tokens.carol! },
        /^autoresearch: the hub at .* has no study [0-9a-f-]{36}: check the study URL/,
      ],
      [
        ['status', '--hub', join(tmp, 'ws')],
        { AUTORESEARCH_HUB_TOKEN: tokens.carol! },
        /^autoresearch: .* is not joined to a hub \(no \[hub\] section/,
      ],
      [['status', '--hub', 'http://x/y'], { AUTORESEARCH_HUB_TOKEN: tokens.carol! }, /is not a study URL/],
    ];
    for (const [args, env, re] of cases) {
      const r = await cliRun(args, env);
      assert.equal(r.code, 1, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, re);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.equal(r.stdout, '');
    }
  });
});

describe('results --hub', () => {
  it('prints the hub results table (tsv and json), one platform, the newest N', async () => {
    const t = await cliRun(['results', '--hub', url]);
    assert.equal(t.code, 0, t.stderr);
    const lines = t.stdout.trimEnd().split('\n');
    assert.equal(
      lines[0],
      'time\tcontributor\tplatform\tkind\tstatus\tverification\tvalue\tverified_value\tcommit\tparent\tdescription',
    );
    assert.equal(lines.length, 1 + 8);
    assert.ok(
      lines.every((l) => l.split('\t').length === 11),
      'tabs and newlines in descriptions never split a row',
    );
    assert.match(lines[1]!, /\tbob\t[0-9a-f]{16}\texperiment\tdiscard\t\t1\.200000\t\t/);
    assert.match(lines[2]!, /\tmallory\t.*\tkeep\tprovisional\thidden\t\t/);
    assert.ok(!t.stdout.includes('0.123456'));
    assert.ok(!t.stdout.includes('\u001b'), 'no terminal escape from a description');
    // the documented examples
    const lim = await cliRun(['results', '--hub', joined, '--limit', '20']);
    assert.equal(lim.code, 0, lim.stderr);
    assert.equal(lim.stdout, t.stdout);
    const gpu = await cliRun(['results', '--hub', url, '--platform', 'H200', '--limit', '50', '--json']);
    assert.equal(gpu.code, 0, gpu.stderr);
    const rows = JSON.parse(gpu.stdout) as Array<{ platformKey: string; contributor: string }>;
    assert.deepEqual(
      rows.map((r) => [r.contributor, r.platformKey]),
      [
        ['hank', platformKey(GPU)],
        ['gina', platformKey(GPU)],
      ],
    );
    const byKey = await cliRun(['results', '--hub', url, '--platform', platformKey(CPU), '--limit', '2', '--json']);
    assert.deepEqual(
      JSON.parse(byKey.stdout).map((r: { description: string }) => r.description),
      ['wider\tmlp\nnewline\u001b[2J', 'miracle'],
    );
    const none = await cliRun(['results', '--hub', url, '--platform', 'TPU']);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /--platform "TPU" names no platform with a verified best; use a key: [0-9a-f]{16} \(/);
    const local = await cliRun(['results', joined, '--json']);
    assert.equal(local.code, 1);
    assert.match(local.stderr, /--json, --platform and --limit go with --hub/);
  });
});
