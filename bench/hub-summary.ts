/**
 * What one read of a hub study's summary costs (GET /studies/:id/summary: what `status --hub`
 * prints and what each `dashboard --hub` polls) and one page of its results table, on a study of
 * N results (3 KB diffs) from 100 contributors on 2 platforms, each platform with a chain of 50
 * verified moves. PostgreSQL: the test cluster (AUTORESEARCH_TEST_PG_URL, else a throw-away one).
 * Run: node --import tsx bench/hub-summary.ts [N]
 */
import { cpus, loadavg } from 'node:os';
import pg from 'pg';
import { recentResults } from '../src/hub/recent.js';
import { migrateHub } from '../src/hub/schema.js';
import { getStudy, publishStudy } from '../src/hub/studies.js';
import { studySummary } from '../src/hub/summary.js';
import { createContributor } from '../src/hub/tokens.js';
import { CPU, GPU, makeBaseline } from '../src/test-support/hub.js';
import { testDatabase } from '../src/test-support/postgres.js';
import { platformKey } from '../src/hub/wire.js';

const n = Number(process.argv[2] ?? 100_000);
const db = await testDatabase('bench_summary');
const pool = new pg.Pool({ connectionString: db.url, max: 8 });
await migrateHub(pool);
const now = Date.now();
const ids: number[] = [];
for (let i = 0; i < 100; i++) {
  const c = await createContributor(pool, `c${i}`, now);
  if (c.kind === 'created') ids.push(c.id);
}
const base = makeBaseline();
const pub = await publishStudy(
  pool,
  ids[0]!,
  {
    name: 'bench',
    metric: 'val_bpb',
    direction: 'minimize',
    tolerance: 0.01,
    baselineCommit: base.commit,
    bundleBase64: base.bundle.toString('base64'),
    config: '',
    program: '',
  },
  now,
);
if (pub.kind !== 'published') throw new Error(pub.message);
const study = (await getStudy(pool, pub.id))!;
const sha = (i: number) => i.toString(16).padStart(40, '0');

// N plain results (discards), spread over contributors and both platforms.
await pool.query(
  `INSERT INTO hub_results (id, study_id, contributor_id, body_hash, kind, parent_commit, commit, diff, value, status,
     description, platform_key, platform, created_at)
   SELECT 'r' || g, $1, ($2::bigint[])[1 + g % 100], 'h', 'experiment', $3, lpad(to_hex(g), 40, 'a'),
     repeat(md5(g::text), 94), 1 + random(), 'discard', 'change ' || g,
     CASE WHEN g % 2 = 0 THEN $4 ELSE $5 END, CASE WHEN g % 2 = 0 THEN $6::jsonb ELSE $7::jsonb END, $8::bigint + g
   FROM generate_series(1, $9) g`,
  [study.id, ids, base.commit, platformKey(CPU), platformKey(GPU), JSON.stringify(CPU), JSON.stringify(GPU), now, n],
);
// Per platform: a verified baseline and 50 verified keeps in a chain, each with its verification run.
for (const [p, plat] of [CPU, GPU].entries()) {
  const pk = platformKey(plat);
  let parent = base.commit;
  let last = '';
  for (let k = 0; k <= 50; k++) {
    const id = `k${p}-${k}`;
    const commit = k === 0 ? base.commit : sha(1_000_000 * (p + 1) + k);
    await pool.query(
      `INSERT INTO hub_results (id, study_id, contributor_id, body_hash, kind, parent_commit, commit, diff, value, status,
         description, platform_key, platform, verification, verified_value, created_at)
       VALUES ($1,$2,$3,'h','experiment',$4,$5,$6,$7,$8,'kept',$9,$10,'verified',$7,$11)`,
      [id, study.id, ids[k % 100], parent, commit, `+k${k}\n`, 1 - k / 100, k ? 'keep' : 'baseline', pk, plat, now + k],
    );
    await pool.query(
      `INSERT INTO hub_results (id, study_id, contributor_id, body_hash, kind, parent_commit, commit, diff, value, status,
         description, platform_key, platform, verification, verifies, created_at)
       VALUES ($1,$2,$3,'h','verification',$4,$5,'',$6,'discard','',$7,$8,'verified',$9,$10)`,
      [`v${id}`, study.id, ids[(k + 1) % 100], parent, commit, 1 - k / 100, pk, plat, id, now + k + 1],
    );
    parent = commit;
    last = id;
  }
  await pool.query(
    `INSERT INTO hub_frontier (study_id, platform_key, platform, best_commit, best_value, best_result_id, moves, updated_at)
     VALUES ($1,$2,$3,$4,$5,$6,51,$7)`,
    [study.id, pk, plat, parent, 0.5, last, now],
  );
}
await pool.query('ANALYZE');

async function time(label: string, fn: () => Promise<unknown>) {
  const ms: number[] = [];
  for (let i = 0; i < 15; i++) {
    const t = performance.now();
    await fn();
    ms.push(performance.now() - t);
  }
  ms.sort((a, b) => a - b);
  console.log(`${label}: median ${ms[7]!.toFixed(1)} ms, max ${ms[14]!.toFixed(1)} ms`);
}
console.log(`${n} results, 2 platforms x 50 verified moves; ${cpus().length} cores, load ${loadavg()[0]!.toFixed(1)}`);
await time('summary (recent 30)', () => studySummary(pool, study, { recent: 30, now }));
const { frontier, contributors } = await import('../src/hub/reads.js');
await time('  frontier', () => frontier(pool, study.id));
await time('  contributors', () => contributors(pool, study.id));
await time('  recent 30', () => recentResults(pool, study.id, { limit: 30 }));
await time('results (limit 100)', () => recentResults(pool, study.id, { limit: 100 }));
await time('results (limit 100, one platform)', () =>
  recentResults(pool, study.id, { limit: 100, platformKey: platformKey(GPU) }),
);
await pool.end();
await db.drop();
