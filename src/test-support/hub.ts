/**
 * Test support for the hub: a fresh PostgreSQL database with the hub schema, the app in-process
 * (`app.request`), a settable clock, contributors with real tokens, and a study published from a
 * real git repository's bundle.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { testDatabase } from './postgres.ts';
import { createHubApp } from '../hub/app.ts';
import { migrateHub } from '../hub/schema.ts';
import { createContributor } from '../hub/tokens.ts';
import type { HubLimits, Platform } from '../hub/wire.ts';

export const CPU: Platform = { cpu: { model: 'Test CPU 9000' }, frameworks: { node: '20' } };
export const GPU: Platform = { gpu: { model: 'H200', count: 1 }, frameworks: { torch: '2.11' } };

export interface Baseline {
  dir: string;
  commit: string;
  bundle: Buffer;
}

/** A git repository with one commit (train.py + program.md), and its bundle. */
export function makeBaseline(): Baseline {
  const dir = mkdtempSync(join(tmpdir(), 'hub-base-'));
  const git = (...a: string[]) => execFileSync('git', a, { cwd: dir, encoding: 'utf8' }).trim();
  git('init', '-q', '-b', 'main');
  writeFileSync(join(dir, 'train.py'), 'lr = 0.1\nprint("---")\nprint("val_bpb: 1.0")\n');
  writeFileSync(join(dir, 'program.md'), '# program\nImprove val_bpb.\n');
  git('add', '.');
  git('-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-q', '-m', 'baseline');
  const commit = git('rev-parse', 'HEAD');
  git('bundle', 'create', '-q', join(dir, 'base.bundle'), 'main');
  return { dir, commit, bundle: readFileSync(join(dir, 'base.bundle')) };
}

export function fakeSha(n: number): string {
  return n.toString(16).padStart(40, 'c');
}

// biome-ignore lint/suspicious/noExplicitAny: tests read response bodies loosely
export type Loose = any;
export type HubResponse = { status: number; json: Loose };

export interface HubFixture {
  url: string;
  pool: pg.Pool;
  app: ReturnType<typeof createHubApp>;
  now: { ms: number };
  base: Baseline;
  token(name: string): Promise<string>;
  call(method: string, path: string, token: string | null, body?: unknown): Promise<HubResponse>;
  publish(token: string, over?: Record<string, unknown>): Promise<string>;
  close(): Promise<void>;
}

export async function hubFixture(limits: Partial<HubLimits> = {}): Promise<HubFixture> {
  const db = await testDatabase('hub');
  const pool = new pg.Pool({ connectionString: db.url, max: 5 });
  await migrateHub(pool);
  const now = { ms: 1_800_000_000_000 };
  const app = createHubApp({ db: pool, limits, clock: () => now.ms });
  const base = makeBaseline();
  const call: HubFixture['call'] = async (method, path, token, body) => {
    const headers: Record<string, string> = {};
    if (token) headers.authorization = `Bearer ${token}`;
    let payload: string | undefined;
    if (body !== undefined) {
      headers['content-type'] = 'application/json';
      payload = typeof body === 'string' ? body : JSON.stringify(body);
    }
    const res = await app.request(`http://hub.test${path}`, { method, headers, body: payload });
    const text = await res.text();
    let json: unknown = text;
    try {
      json = JSON.parse(text);
    } catch {
      // not JSON (the bundle)
    }
    return { status: res.status, json };
  };
  return {
    url: db.url,
    pool,
    app,
    now,
    base,
    async token(name) {
      const r = await createContributor(pool, name, now.ms);
      if (r.kind !== 'created') throw new Error(`token ${name}: ${r.kind}`);
      return r.token;
    },
    call,
    async publish(token, over = {}) {
      const r = await call('POST', '/studies', token, {
        name: 'tiny',
        metric: 'val_bpb',
        direction: 'minimize',
        tolerance: 0.01,
        baselineCommit: base.commit,
        bundleBase64: base.bundle.toString('base64'),
        config: '[study]\ntag = "tiny"\n',
        program: '# program\n',
        ...over,
      });
      if (r.status !== 201) throw new Error(`publish: ${r.status} ${JSON.stringify(r.json)}`);
      return r.json.id as string;
    },
    async close() {
      await pool.end();
      await db.drop();
      rmSync(base.dir, { recursive: true, force: true });
    },
  };
}
