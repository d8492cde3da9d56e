/**
 * The dashboard's HTTP app (Hono): the page, its assets, the JSON API and the live stream.
 *
 *   GET /                      the page (static HTML; the script renders from the API)
 *   GET /assets/<file>         the page's modules (app.js, ...), style.css, uplot.js, uplot.css
 *   GET /api/style             the chart style shared with `plot` and `report`
 *   GET /api/state             the latest snapshot ({kind: 'snapshot' | 'waiting', ...})
 *   GET /api/experiments/:n    one experiment's page data
 *   GET /api/mode              which views this dashboard has: {local, hub}
 *   GET /api/hub               the hub study's latest summary (`dashboard --hub`), else 404
 *   GET /api/events            Server-Sent Events: `snapshot`, `waiting`, `study-event`, `hub`
 *
 * Contract: read-only (any other method is 405; nothing writes to the ledger). Ledger text is sent
 * as JSON and put in the page as text by the script; a Content-Security-Policy without inline
 * scripts is a second wall against a description like `<script>`. Requests whose Host header is
 * not one of `allowedHosts` get 403 (a DNS-rebinding page can't read a loopback dashboard).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import type { Ledger } from '../ledger/types.js';
import { KIND_STYLE, LINE_STYLE } from '../report/chart-style.js';
import { assetsDir, uplotFiles } from './assets-dir.js';
import { experimentDetail } from './experiment-detail.js';
import type { FeedMessage, LiveFeed } from './feed.js';
import type { HubFeed, HubFeedMessage } from './hub-feed.js';

export interface DashboardAppOptions {
  /** The local study (null: a hub study only, `dashboard --hub STUDY_URL`). */
  ledger: Ledger | null;
  tag: string;
  feed: LiveFeed | null;
  /** A hub study polled by this server (the token stays here); null or absent: none. */
  hubFeed?: HubFeed | null;
  /** Folder of the run logs (`<workspace>/.autoresearch/logs`): log heads are read only from there. */
  logRoot: string;
  /** Host names (without port) a request may name; null accepts any (non-loopback binds). */
  allowedHosts: readonly string[] | null;
  /** SSE keep-alive comment interval (default 15 s). */
  keepAliveMs?: number;
}

const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** The page's own modules and stylesheet (src/dashboard/assets), and uPlot's from node_modules. */
const PAGE_FILES = ['app.js', 'state.js', 'dom.js', 'chart.js', 'overview.js', 'detail.js', 'hub.js', 'style.css'];

const typeOf = (file: string): string =>
  file.endsWith('.css') ? 'text/css; charset=utf-8' : 'text/javascript; charset=utf-8';

function loadAssets(): Record<string, string> {
  const dir = assetsDir();
  const up = uplotFiles();
  const files: Record<string, string> = {
    'index.html': readFileSync(join(dir, 'index.html'), 'utf8'),
    'uplot.js': readFileSync(up.js, 'utf8'),
    'uplot.css': readFileSync(up.css, 'utf8'),
  };
  for (const f of PAGE_FILES) files[f] = readFileSync(join(dir, f), 'utf8');
  return files;
}

const toSse = (m: FeedMessage | HubFeedMessage): { event: string; data: string } =>
  m.kind === 'hub'
    ? { event: 'hub', data: JSON.stringify(m) }
    : m.kind === 'event'
      ? { event: 'study-event', data: JSON.stringify(m.event) }
      : m.kind === 'snapshot'
        ? { event: 'snapshot', data: JSON.stringify(m.snapshot) }
        : { event: 'waiting', data: JSON.stringify({ message: m.message }) };

export function createDashboardApp(opts: DashboardAppOptions): Hono {
  const assets = loadAssets();
  const app = new Hono();

  app.use('*', async (c, next) => {
    if (opts.allowedHosts) {
      const host = (c.req.header('host') ?? '').replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
      if (!opts.allowedHosts.includes(host.toLowerCase())) return c.text('forbidden host', 403);
    }
    if (c.req.method !== 'GET' && c.req.method !== 'HEAD') return c.text('read-only', 405);
    await next();
    c.header('Content-Security-Policy', CSP);
    c.header('X-Content-Type-Options', 'nosniff');
    c.header('Referrer-Policy', 'no-referrer');
  });

  app.get('/', (c) => c.html(assets['index.html']!));
  app.get('/e/:n', (c) => c.html(assets['index.html']!));
  app.get('/api/mode', (c) => c.json({ local: opts.feed !== null, hub: !!opts.hubFeed }));
  app.get('/api/hub', async (c) =>
    opts.hubFeed ? c.json(await opts.hubFeed.current()) : c.json({ error: 'no hub study (dashboard --hub)' }, 404),
  );
  app.get('/assets/:file', (c) => {
    const file = c.req.param('file');
    if (file === 'index.html' || !Object.hasOwn(assets, file)) return c.notFound();
    return c.body(assets[file]!, 200, { 'Content-Type': typeOf(file), 'Cache-Control': 'no-cache' });
  });
  app.get('/api/style', (c) => c.json({ kinds: KIND_STYLE, line: LINE_STYLE }));
  app.get('/api/state', async (c) => {
    if (!opts.feed) return c.json({ kind: 'waiting', message: 'no local study: this dashboard shows a hub study' });
    const m = await opts.feed.current();
    return c.json(m.kind === 'snapshot' ? { kind: 'snapshot', ...m.snapshot } : m);
  });
  app.get('/api/experiments/:n', async (c) => {
    const n = Number(c.req.param('n'));
    if (!Number.isInteger(n) || n < 0) return c.json({ error: 'experiment number expected' }, 400);
    if (!opts.ledger) return c.json({ error: 'no local study' }, 404);
    const study = await opts.ledger.getStudy(opts.tag);
    const e = study ? (await opts.ledger.listExperiments(study.id)).find((x) => x.number === n) : undefined;
    if (!e) return c.json({ error: `no experiment #${n}` }, 404);
    return c.json(experimentDetail(e, opts.logRoot));
  });
  app.get('/api/events', (c) =>
    streamSSE(c, async (stream) => {
      const queue: Array<FeedMessage | HubFeedMessage> = [];
      let wake: (() => void) | null = null;
      const push = (m: FeedMessage | HubFeedMessage) => {
        queue.push(m);
        wake?.();
      };
      const unsubscribers = [opts.feed?.subscribe(push), opts.hubFeed?.subscribe(push)];
      let open = true;
      stream.onAbort(() => {
        open = false;
        wake?.();
      });
      const keepAlive = setInterval(() => {
        queue.push({ kind: 'waiting', message: '' });
        wake?.();
      }, opts.keepAliveMs ?? 15_000);
      try {
        while (open) {
          const m = queue.shift();
          if (!m) {
            await new Promise<void>((r) => {
              wake = r;
            });
            wake = null;
            continue;
          }
          if (m.kind === 'waiting' && m.message === '') await stream.write(': keep-alive\n\n');
          else await stream.writeSSE(toSse(m));
        }
      } finally {
        clearInterval(keepAlive);
        for (const u of unsubscribers) u?.();
      }
    }),
  );
  return app;
}
