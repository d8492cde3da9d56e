/**
 * Hub load (issue 11): N simulated contributors (default 1,000) against a real hub process and a
 * real PostgreSQL server, all on this machine, for a bounded time. Each contributor holds its own
 * keep-alive connection and loops: ask for work ("give me work"); post a result for it (or, with
 * no work, a result of its own exploration) with a diff of real size; think for a while. Experiments are queued by the study owner ahead; 5% of results
 * claim a keep, which makes verification work for the others.
 * Reports: results accepted per second (target >= 200) and latency of "give me work" (p50/p99,
 * target p99 < 50 ms). Run: npm run bench:hub
 * Knobs: HUB_BENCH_CONTRIBUTORS (1000), HUB_BENCH_SECONDS (20, measured after HUB_BENCH_WARMUP_SECONDS, 10), HUB_BENCH_THINK_MS (mean think
 * time per contributor between cycles, default 2000), HUB_BENCH_QUEUED (20000 experiments queued),
 * HUB_BENCH_POOL (the hub's `--pool`, default 20), HUB_BENCH_NODE_ARGS (e.g. --cpu-prof for the hub),
 * HUB_BENCH_DIFF_BYTES (size of each posted and queued diff, default 2000), HUB_BENCH_PG_STATS=1 (where
 * PostgreSQL's time went: pg_stat_statements over the window, dead tuples, one hand-out explained).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { cpus, loadavg } from 'node:os';
import pg from 'pg';
import { migrateHub } from '../../src/hub/schema.js';
import { createContributor } from '../../src/hub/tokens.js';
import type { Platform } from '../../src/hub/wire.js';
import { makeBaseline } from '../../src/test-support/hub.js';
import { startCluster } from '../../src/test-support/pg-cluster.js';
import { cpuSeconds, explainHandOut, postgresPids, withDescendants } from './measure.js';

const N = Number(process.env.HUB_BENCH_CONTRIBUTORS ?? 1000);
const SECONDS = Number(process.env.HUB_BENCH_SECONDS ?? 20);
const WARMUP = Number(process.env.HUB_BENCH_WARMUP_SECONDS ?? 10);
const THINK = Number(process.env.HUB_BENCH_THINK_MS ?? 2000);
const QUEUED = Number(process.env.HUB_BENCH_QUEUED ?? 20000);
const POOL = Number(process.env.HUB_BENCH_POOL ?? 20);
const DIFF_BYTES = Number(process.env.HUB_BENCH_DIFF_BYTES ?? 2000);
/** A unified diff of about DIFF_BYTES (what a proposer's edit to a training script looks like). */
const DIFF = (() => {
  let d = '--- a/train.py\n+++ b/train.py\n';
  for (let i = 0; d.length < DIFF_BYTES; i++)
    d += `@@ -${10 * i + 1},3 +${10 * i + 1},3 @@\n model = GPT(n_layer=${i % 12}, n_head=8)\n-lr = 0.0${i}\n+lr = 0.0${i + 1}\n`;
  return d;
})();
const MAIN = new URL('../../src/cli/main.ts', import.meta.url).pathname;
const PLATFORMS: Platform[] = [
  { cpu: { model: 'Bench CPU A' }, frameworks: { node: '20' } },
  { gpu: { model: 'H200', count: 1 }, frameworks: { torch: '2.11' } },
];

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

async function main(): Promise<void> {
  const load0 = loadavg();
  // HUB_BENCH_PG_STATS=1: pg_stat_statements on; the statements that took the most time in the
  // measured window are printed after the figures (where PostgreSQL's time goes).
  const pgStats = process.env.HUB_BENCH_PG_STATS === '1';
  const cluster = await startCluster(
    pgStats ? { shared_preload_libraries: 'pg_stat_statements', 'pg_stat_statements.track': 'all' } : {},
  );
  let hubProc: ChildProcess | null = null;
  const pool = new pg.Pool({ connectionString: cluster.url, max: 4 });
  try {
    await migrateHub(pool);
    if (pgStats) await pool.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
    process.stderr.write(`creating ${N} contributors...\n`);
    const tokens: string[] = [];
    for (let i = 0; i < N; i++) {
      const r = await createContributor(pool, `c${i}`, Date.now());
      if (r.kind !== 'created') throw new Error(`contributor c${i}: ${r.kind}`);
      tokens.push(r.token);
    }
    // HUB_BENCH_HUB_JS: a bundled hub CLI (plain JS) to run instead of the TypeScript sources.
    const entry = process.env.HUB_BENCH_HUB_JS ? [process.env.HUB_BENCH_HUB_JS] : ['--import', 'tsx', MAIN];
    hubProc = spawn(
      process.execPath,
      [
        ...(process.env.HUB_BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? []),
        ...entry,
        'hub',
        'serve',
        '--db',
        cluster.url,
        '--port',
        '0',
        '--pool',
        String(POOL),
      ],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      hubProc!.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /hub listening on (\S+)/.exec(out);
        if (m) resolve(m[1]!);
      });
      hubProc!.once('exit', (code) => reject(new Error(`hub exited ${code}`)));
    });
    // node:http with one keep-alive connection per contributor (as 1,000 separate machines would
    // hold), not fetch: the load generator shares the 2 cores with the hub and PostgreSQL, and
    // fetch's per-request Request/Response/stream objects cost it ~2-3x the CPU of a plain request.
    const target = new URL(url);
    const agents = tokens.map(() => new http.Agent({ keepAlive: true, maxSockets: 1 }));
    const call = (i: number, method: string, path: string, body?: unknown) =>
      new Promise<{ status: number; json: Record<string, unknown> }>((resolve, reject) => {
        const payload = body === undefined ? undefined : JSON.stringify(body);
        const headers: http.OutgoingHttpHeaders = { authorization: `Bearer ${tokens[i]}` };
        if (payload !== undefined) {
          headers['content-type'] = 'application/json';
          headers['content-length'] = Buffer.byteLength(payload);
        }
        const req = http.request(
          { host: target.hostname, port: target.port, method, path, headers, agent: agents[i] },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (d: Buffer) => chunks.push(d));
            res.on('end', () => {
              try {
                resolve({ status: res.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
              } catch (err) {
                reject(err);
              }
            });
            res.on('error', reject);
          },
        );
        req.on('error', reject);
        req.end(payload);
      });
    const base = makeBaseline();
    const pub = await call(0, 'POST', '/studies', {
      name: 'bench',
      metric: 'val_bpb',
      direction: 'minimize',
      tolerance: 0.01,
      baselineCommit: base.commit,
      bundleBase64: base.bundle.toString('base64'),
      config: '',
      program: '',
    });
    const study = pub.json.id as string;
    process.stderr.write(`queueing ${QUEUED} experiments...\n`);
    await pool.query(
      `INSERT INTO hub_work (study_id, kind, priority, payload, state, created_at)
       SELECT $1, 'experiment', 1, jsonb_build_object('parent', $2::text, 'diff', $5::text || '# idea ' || g || E'\n', 'description', 'idea ' || g), 'queued', $3
       FROM generate_series(1, $4) g`,
      [study, base.commit, Date.now(), QUEUED, DIFF],
    );

    const workMs: number[] = [];
    const postMs: number[] = [];
    const codes = new Map<number, number>();
    const count = (s: number) => codes.set(s, (codes.get(s) ?? 0) + 1);
    let accepted = 0;
    let errors = 0;
    const errorKinds = new Map<string, number>();
    // Open every contributor's keep-alive connection before the clock starts (50 at a time): the
    // figures are of the steady state, not of 1,000 connections opened at once (a listen-backlog
    // overflow there costs a SYN retransmit, 1 s or more, on a first request).
    for (let i = 0; i < N; i += 50)
      await Promise.all(
        [...Array(Math.min(50, N - i)).keys()].map((k) => call(i + k, 'GET', '/healthz').then((r) => count(r.status))),
      );
    codes.clear();
    // The contributors run WARMUP seconds unmeasured (the hub's JIT compiles its hot paths, pools
    // fill), then SECONDS measured: what a cycle started in the window took, and what the hub and
    // PostgreSQL spent in it. Think times are cut at the end of the window so no idle tail counts.
    const pgCpu = (pids: number[]) => cpuSeconds(pids.slice(0, 1), true) + cpuSeconds(pids.slice(1));
    const start = performance.now();
    const measureFrom = start + WARMUP * 1000;
    const stopAt = measureFrom + SECONDS * 1000;
    let cpu0 = { hub: 0, pg: 0, client: process.cpuUsage() };
    const snapshot = new Promise<void>((resolve) =>
      setTimeout(() => {
        cpu0 = {
          hub: cpuSeconds(withDescendants(hubProc!.pid!)),
          pg: pgCpu(postgresPids(cluster.port)),
          client: process.cpuUsage(),
        };
        codes.clear();
        if (pgStats) void pool.query('SELECT pg_stat_statements_reset()');
        resolve();
      }, WARMUP * 1000),
    );
    const sleep = (ms: number) =>
      new Promise((r) => setTimeout(r, Math.max(0, Math.min(ms, stopAt - performance.now()))));
    let lastEnd = stopAt;
    const contributor = async (i: number) => {
      const platform = PLATFORMS[i % PLATFORMS.length]!;
      await sleep(Math.random() * THINK); // spread the start
      while (performance.now() < stopAt) {
        const t0 = performance.now();
        const measured = t0 >= measureFrom;
        try {
          const w = await call(i, 'POST', `/studies/${study}/work`, { platform });
          const t1 = performance.now();
          if (measured) workMs.push(t1 - t0);
          count(w.status);
          const work = w.json.work as { id: number; parent: string; commit?: string } | null;
          const keep = Math.random() < 0.05;
          const r = await call(i, 'POST', `/studies/${study}/results`, {
            id: randomUUID(),
            workId: work?.id,
            parent: work?.parent ?? base.commit,
            commit: work?.commit ?? randomUUID().replace(/-/g, '').padEnd(40, '0'),
            diff: DIFF,
            value: 1 - Math.random() * 0.01,
            status: keep && !work?.commit ? 'keep' : 'discard',
            description: 'bench',
            platform,
          });
          const t2 = performance.now();
          count(r.status);
          if (measured) {
            postMs.push(t2 - t1);
            if (r.status === 201) accepted++;
            lastEnd = Math.max(lastEnd, t2);
          }
        } catch (err) {
          errors++;
          const e = err as Error & { cause?: { code?: string; message?: string } };
          const why = e.cause?.code ?? e.cause?.message ?? e.message;
          errorKinds.set(why, (errorKinds.get(why) ?? 0) + 1);
        }
        await sleep(THINK * (0.5 + Math.random()));
      }
    };
    // Mid-window (HUB_BENCH_PG_STATS=1): the queue's make-up and one hand-out explained, in a
    // transaction rolled back (contributor 1's first platform; what the hub's statement does now).
    const probe = !pgStats
      ? Promise.resolve()
      : new Promise<void>((resolve) =>
          setTimeout(
            async () => {
              try {
                const counts = await pool.query(
                  `SELECT kind, state, platform_key IS NOT NULL AS platform, count(*) FROM hub_work GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`,
                );
                for (const r of counts.rows) process.stderr.write(`queue mid-window: ${JSON.stringify(r)}\n`);
                process.stderr.write(`probe: ${await explainHandOut(pool, study, PLATFORMS[0]!)}\n`);
              } catch (err) {
                process.stderr.write(`probe failed: ${(err as Error).message}\n`);
              }
              resolve();
            },
            (WARMUP + SECONDS / 2) * 1000,
          ),
        );
    await Promise.all([snapshot, probe, ...[...Array(N).keys()].map(contributor)]);
    const elapsed = (lastEnd - measureFrom) / 1000;
    const pgNow = postgresPids(cluster.port);
    const cpu = {
      hub: cpuSeconds(withDescendants(hubProc.pid!)) - cpu0.hub,
      postgres: pgCpu(pgNow) - cpu0.pg,
      client: (() => {
        const u = process.cpuUsage(cpu0.client);
        return (u.user + u.system) / 1e6;
      })(),
    };
    workMs.sort((a, b) => a - b);
    postMs.sort((a, b) => a - b);
    const summary = {
      contributors: N,
      seconds: Number(elapsed.toFixed(1)),
      warmupSeconds: WARMUP,
      thinkMs: THINK,
      resultsAccepted: accepted,
      resultsPerSecond: Number((accepted / elapsed).toFixed(1)),
      giveMeWork: {
        requests: workMs.length,
        p50: Number(pct(workMs, 50).toFixed(1)),
        p99: Number(pct(workMs, 99).toFixed(1)),
      },
      postResult: { p50: Number(pct(postMs, 50).toFixed(1)), p99: Number(pct(postMs, 99).toFixed(1)) },
      httpStatuses: Object.fromEntries(codes),
      cpuSeconds: Object.fromEntries(Object.entries(cpu).map(([k, v]) => [k, Number(v.toFixed(1))])),
      // Per HTTP request answered in the window (give me work or a post): robust when a starved
      // run finishes few of the cycles it started.
      cpuMsPerRequest: (() => {
        const requests = Math.max(
          1,
          [...codes.values()].reduce((a, b) => a + b, 0),
        );
        return Object.fromEntries(Object.entries(cpu).map(([k, v]) => [k, Number(((v * 1000) / requests).toFixed(2))]));
      })(),
      cpuMsPerResult: {
        hub: Number(((cpu.hub * 1000) / Math.max(1, accepted)).toFixed(2)),
        postgres: Number(((cpu.postgres * 1000) / Math.max(1, accepted)).toFixed(2)),
      },
      networkErrors: errors,
      networkErrorKinds: Object.fromEntries(errorKinds),
      machine: { cpus: cpus().length, model: cpus()[0]?.model, loadavgBefore: load0, loadavgAfter: loadavg() },
    };
    process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    if (pgStats) {
      const top = await pool.query(
        `SELECT calls, round(total_exec_time::numeric, 1) AS total_ms, round(mean_exec_time::numeric, 3) AS mean_ms,
           round(max_exec_time::numeric, 1) AS max_ms, shared_blks_hit AS hit, shared_blks_read AS read,
           left(regexp_replace(query, '\\s+', ' ', 'g'), 110) AS query
         FROM pg_stat_statements ORDER BY total_exec_time DESC LIMIT 12`,
      );
      process.stdout.write('PostgreSQL time in the window, by statement (pg_stat_statements):\n');
      for (const r of top.rows) process.stdout.write(`${JSON.stringify(r)}\n`);
      const tables = await pool.query(
        `SELECT relname, n_live_tup, n_dead_tup, autovacuum_count, autoanalyze_count
         FROM pg_stat_user_tables WHERE relname LIKE 'hub_%' ORDER BY relname`,
      );
      for (const r of tables.rows) process.stdout.write(`${JSON.stringify(r)}\n`);
    }
    process.stdout.write(
      `results accepted/s: ${summary.resultsPerSecond} (target >= 200); give-me-work p99: ${summary.giveMeWork.p99} ms (target < 50)\n`,
    );
  } finally {
    await pool.end();
    hubProc?.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 500));
    cluster.stop();
  }
}

await main();
