/**
 * The hub's HTTP API (Hono over PostgreSQL). Every route but /healthz needs `Authorization:
 * Bearer <token>`; bodies are size-limited and validated (400 naming the field); each token is
 * rate-limited (429 + Retry-After). Errors are JSON `{ error }` with one line saying what to do.
 * All state is in PostgreSQL: a restarted hub continues where it was.
 */
import { Hono, type Context, type MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type pg from 'pg';
import type { z } from 'zod';
import { listNotes, postNote } from './notes.js';
import { tokenBuckets } from './rate-limit.js';
import { contributors, frontier, leaves, nodesAt, triedFrom } from './reads.js';
import { MAX_RESULTS_LIMIT, recentResults } from './recent.js';
import { postResult } from './results.js';
import { getBundle, getStudy, publishStudy, type StudyRow } from './studies.js';
import { studySummary } from './summary.js';
import { authenticateHash, type Contributor, hashToken, type TokenOwner, tokenOwners } from './tokens.js';
import { handOutWork, heartbeat, queueExperiment } from './work.js';
import {
  DEFAULT_LIMITS,
  explainZod,
  type HubLimits,
  noteSchema,
  publishSchema,
  queueSchema,
  resultSchema,
  studyIdSchema,
  workRequestSchema,
} from './wire.js';

export interface HubDeps {
  db: pg.Pool;
  limits?: Partial<HubLimits>;
  /** Milliseconds since the epoch; tests pass a fake to expire leases. */
  clock?: () => number;
}

/**
 * `who`: the caller, checked against the database by this request (not revoked; `flagged` fresh).
 * `owner`: the caller's id and name only, possibly from the token cache: set on the hot routes
 * (give me work, post a result), whose statements check revocation and read `flagged` themselves.
 */
type Env = { Variables: { who: Contributor; owner: TokenOwner } };
const SHA_RE = /^[0-9a-f]{40}([0-9a-f]{24})?$/;
/** Routes whose one statement checks the token itself: they may skip the lookup (token cache). */
const CHECKS_TOKEN_ITSELF = /^\/studies\/[^/]+\/(work|results)$/;

class Refusal extends Error {
  constructor(
    readonly status: 400 | 403 | 404 | 409 | 413,
    message: string,
  ) {
    super(message);
  }
}

export function createHubApp(deps: HubDeps): Hono<Env> {
  const { db } = deps;
  const limits: HubLimits = { ...DEFAULT_LIMITS, ...deps.limits };
  const clock = deps.clock ?? Date.now;
  const rate = tokenBuckets(limits.ratePerSecond, limits.rateBurst);
  // Published studies never change: one read each per process (unknown ids are not remembered).
  const studies = new Map<string, StudyRow>();
  const owners = tokenOwners();
  const app = new Hono<Env>();
  const small = sizeLimit(limits.bodyBytes, `request body over ${limits.bodyBytes} bytes`);
  const large = sizeLimit(limits.publishBytes, `study upload over ${limits.publishBytes} bytes (bundle too large)`);

  app.onError((err, c) => {
    if (err instanceof Refusal) return c.json({ error: err.message }, err.status);
    console.error(`hub: ${c.req.method} ${c.req.path}: ${(err as Error).stack ?? err}`);
    return c.json({ error: 'internal error in the hub (its log has the details)' }, 500);
  });
  app.notFound((c) => c.json({ error: `no such endpoint: ${c.req.method} ${c.req.path}` }, 404));

  app.get('/healthz', (c) => c.json({ ok: true }));

  app.use('*', async (c, next) => {
    const header = c.req.header('authorization') ?? '';
    const m = /^Bearer\s+(\S+)$/i.exec(header);
    if (!m)
      return c.json(
        { error: 'missing bearer token: send "Authorization: Bearer <token>" (autoresearch hub token create NAME)' },
        401,
      );
    const tokenHash = hashToken(m[1]!);
    const fromCache = c.req.method === 'POST' && CHECKS_TOKEN_ITSELF.test(c.req.path);
    let owner = fromCache ? owners.get(tokenHash) : undefined;
    if (!owner) {
      const auth = await authenticateHash(db, tokenHash);
      if (auth.kind === 'unknown') return c.json({ error: 'unknown token: ask the hub operator for one' }, 401);
      if (auth.kind === 'revoked') return revoked(c);
      owners.remember(tokenHash, auth.contributor);
      c.set('who', auth.contributor);
      owner = auth.contributor;
    }
    const wait = rate.take(owner.id, clock());
    if (wait > 0) {
      c.header('Retry-After', String(wait));
      return c.json({ error: `rate limit: over ${limits.ratePerSecond} requests/s for this token; retry later` }, 429);
    }
    c.set('owner', owner);
    await next();
  });

  async function body<S extends z.ZodType>(c: Context<Env>, schema: S): Promise<z.output<S>> {
    let raw: unknown;
    try {
      raw = await c.req.json();
    } catch {
      throw new Refusal(400, 'request body is not valid JSON');
    }
    const r = schema.safeParse(raw);
    if (!r.success) throw new Refusal(400, `malformed body: ${explainZod(r.error)}`);
    return r.data;
  }

  async function study(c: Context<Env>): Promise<StudyRow> {
    const id = c.req.param('id') ?? '';
    const known = studies.get(id);
    if (known) return known;
    const s = studyIdSchema.safeParse(id).success ? await getStudy(db, id) : null;
    if (!s) throw new Refusal(404, `unknown study ${JSON.stringify(id.slice(0, 80))}`);
    if (studies.size >= 10_000) studies.clear();
    studies.set(id, s);
    return s;
  }

  function sha(c: Context<Env>, name: string): string {
    const v = c.req.param(name) ?? c.req.query(name) ?? '';
    if (!SHA_RE.test(v)) throw new Refusal(400, `${name} must be a full git commit id`);
    return v;
  }

  function count(c: Context<Env>, name: string, fallback: number): number {
    const v = c.req.query(name);
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1 || n > MAX_RESULTS_LIMIT)
      throw new Refusal(400, `${name} must be a whole number from 1 to ${MAX_RESULTS_LIMIT}`);
    return n;
  }

  app.post('/studies', large, async (c) => {
    const b = await body(c, publishSchema);
    const r = await publishStudy(db, c.get('who').id, b, clock());
    if (r.kind === 'bad-bundle') throw new Refusal(400, r.message);
    const url = `${new URL(c.req.url).origin}/studies/${r.id}`;
    return c.json({ id: r.id, url }, 201);
  });

  app.get('/studies/:id', async (c) => {
    const s = await study(c);
    return c.json({ ...s, ownerId: undefined });
  });

  app.get('/studies/:id/bundle', async (c) => {
    const s = await study(c);
    const bytes = await getBundle(db, s.id);
    return c.body(new Uint8Array(bytes!), 200, { 'content-type': 'application/octet-stream' });
  });

  app.post('/studies/:id/results', small, async (c) => {
    const s = await study(c);
    const b = await body(c, resultSchema);
    const r = await postResult(db, s, c.get('owner'), b, clock());
    switch (r.kind) {
      case 'revoked':
        return revoked(c);
      case 'accepted':
        return c.json(r, r.duplicate ? 200 : 201);
      case 'id-reused':
        throw new Refusal(409, `result id ${b.id} was already used for a different result`);
      case 'work-not-yours':
        throw new Refusal(403, r.message);
      case 'work-done':
        throw new Refusal(409, `work ${b.workId} already has its result`);
      case 'work-mismatch':
        throw new Refusal(400, r.message);
    }
  });

  app.post('/studies/:id/work', small, async (c) => {
    const s = await study(c);
    const b = await body(c, workRequestSchema);
    const work = await handOutWork(db, s.id, c.get('owner').id, b.platform, clock(), limits.leaseMs);
    if (work?.kind === 'revoked') return revoked(c);
    return c.json({ work });
  });

  app.post('/studies/:id/work/:workId/heartbeat', small, async (c) => {
    const s = await study(c);
    const workId = Number(c.req.param('workId'));
    if (!Number.isSafeInteger(workId) || workId <= 0) throw new Refusal(400, 'workId must be a positive integer');
    const r = await heartbeat(db, s.id, workId, c.get('who'), clock(), limits.leaseMs);
    if (r.kind === 'lost') throw new Refusal(409, r.message);
    return c.json(r);
  });

  app.post('/studies/:id/queue', small, async (c) => {
    const s = await study(c);
    if (s.ownerId !== c.get('who').id) throw new Refusal(403, 'only the study owner queues experiments');
    const b = await body(c, queueSchema);
    return c.json({ workId: await queueExperiment(db, s.id, b, clock()) }, 201);
  });

  app.get('/studies/:id/leaves', async (c) => c.json({ leaves: await leaves(db, (await study(c)).id) }));
  app.get('/studies/:id/commits/:sha', async (c) => {
    const s = await study(c);
    return c.json({ nodes: await nodesAt(db, s.id, sha(c, 'sha'), 'commit') });
  });
  app.get('/studies/:id/commits/:sha/children', async (c) => {
    const s = await study(c);
    return c.json({ children: await nodesAt(db, s.id, sha(c, 'sha'), 'parent') });
  });
  app.get('/studies/:id/tried', async (c) => {
    const s = await study(c);
    return c.json(await triedFrom(db, s.id, sha(c, 'from')));
  });
  app.get('/studies/:id/frontier', async (c) => c.json({ platforms: await frontier(db, (await study(c)).id) }));
  app.get('/studies/:id/contributors', async (c) =>
    c.json({ contributors: await contributors(db, (await study(c)).id) }),
  );

  // The study across contributors (status --hub, the dashboard) and its results table (results --hub).
  app.get('/studies/:id/summary', async (c) => {
    const s = await study(c);
    return c.json(await studySummary(db, s, { recent: count(c, 'recent', 20), now: clock() }));
  });
  app.get('/studies/:id/results', async (c) => {
    const s = await study(c);
    const platform = c.req.query('platform');
    if (platform !== undefined && !/^[0-9a-f]{16}$/.test(platform))
      throw new Refusal(400, 'platform must be a platform key (16 hex characters, as the frontier lists them)');
    return c.json({ results: await recentResults(db, s.id, { limit: count(c, 'limit', 100), platformKey: platform }) });
  });

  app.post('/studies/:id/notes', small, async (c) => {
    const s = await study(c);
    const b = await body(c, noteSchema);
    const r = await postNote(db, s.id, c.get('who').id, b, clock());
    return c.json(r, r.duplicate ? 200 : 201);
  });
  app.get('/studies/:id/notes', async (c) => {
    const s = await study(c);
    const commit = c.req.query('commit');
    if (commit !== undefined && !SHA_RE.test(commit)) throw new Refusal(400, 'commit must be a full git commit id');
    const limit = Math.min(500, Math.max(1, Number(c.req.query('limit') ?? 100) || 100));
    return c.json({ notes: await listNotes(db, s.id, { commit, limit }) });
  });

  return app;
}

function revoked(c: Context): Response {
  return c.json({ error: 'this token was revoked' }, 401);
}

/**
 * 413 over `maxSize` bytes. A body with a Content-Length is checked from the header alone (Node's
 * parser never reads past it), so the body is later read once, directly (reading
 * `c.req.raw.body` first, as hono's bodyLimit does, builds a web Request and stream per request);
 * a chunked body goes through hono's bodyLimit, which counts as it reads.
 */
function sizeLimit(maxSize: number, message: string): MiddlewareHandler {
  const onError = (c: Context) => c.json({ error: message }, 413);
  const chunked = bodyLimit({ maxSize, onError });
  return async (c, next) => {
    const length = c.req.header('content-length');
    if (length === undefined || c.req.header('transfer-encoding') !== undefined) return chunked(c, next);
    if (!/^\d+$/.test(length) || Number(length) > maxSize) return onError(c);
    await next();
  };
}
