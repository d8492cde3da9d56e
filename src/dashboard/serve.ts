/**
 * Starts the dashboard: a live feed on the ledger and the HTTP server on host:port.
 *
 * Contract: binds to `host` as given (loopback by default; `isLoopback` tells the caller whether
 * to warn); resolves once listening with the URL to open, or rejects with a `DashboardError`
 * saying what to do (port in use, address not available). `close()` stops the feed and the
 * server and ends open event streams.
 */
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { serve } from '@hono/node-server';
import { STATE_DIR } from '../workspace/workspace.js';
import type { Ledger } from '../ledger/types.js';
import type { StudyEvent } from '../loop/events.js';
import { LiveFeed } from './feed.js';
import { HubFeed, type HubFeedOptions } from './hub-feed.js';
import { createDashboardApp } from './server.js';

export class DashboardError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DashboardError';
  }
}

export interface DashboardOptions {
  /** The local study's ledger; null shows only the hub study (`hub` must be given then). */
  ledger: Ledger | null;
  tag: string;
  root: string;
  host: string;
  /** 0 picks a free port. */
  port: number;
  pollMs?: number;
  /** A hub study to show too (`dashboard --hub`): polled by the server, which holds the token. */
  hub?: HubFeedOptions;
}

export interface RunningDashboard {
  url: string;
  port: number;
  /** Feeds events of a study running in this process (`run --dashboard`). */
  publish(event: StudyEvent): void;
  close(): Promise<void>;
}

const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '::1'];

export function isLoopback(host: string): boolean {
  return LOOPBACK_NAMES.includes(host.toLowerCase()) || /^127\./.test(host);
}

export async function startDashboard(opts: DashboardOptions): Promise<RunningDashboard> {
  const feed = opts.ledger
    ? new LiveFeed({ ledger: opts.ledger, tag: opts.tag, root: opts.root, pollMs: opts.pollMs })
    : null;
  const hubFeed = opts.hub ? new HubFeed(opts.hub) : null;
  const loopback = isLoopback(opts.host);
  const app = createDashboardApp({
    ledger: opts.ledger,
    tag: opts.tag,
    feed,
    hubFeed,
    logRoot: join(opts.root, STATE_DIR, 'logs'),
    allowedHosts: loopback ? [...LOOPBACK_NAMES, opts.host.toLowerCase()] : null,
  });
  const server = serve({ fetch: app.fetch, hostname: opts.host, port: opts.port });
  await new Promise<void>((resolve, reject) => {
    server.once('listening', () => resolve());
    server.once('error', (err: NodeJS.ErrnoException) => {
      const what = `${opts.host}:${opts.port}`;
      if (err.code === 'EADDRINUSE')
        reject(
          new DashboardError(`port ${opts.port} is in use on ${opts.host}: pass --port <another>`, { cause: err }),
        );
      else if (err.code === 'EADDRNOTAVAIL' || err.code === 'ENOTFOUND')
        reject(new DashboardError(`cannot listen on ${what}: no such address here (check --host)`, { cause: err }));
      else reject(new DashboardError(`cannot listen on ${what}: ${err.message}`, { cause: err }));
    });
  });
  feed?.start();
  hubFeed?.start();
  const port = (server.address() as AddressInfo).port;
  const shown = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  return {
    url: `http://${shown === '0.0.0.0' ? '127.0.0.1' : shown}:${port}/`,
    port,
    publish: (e) => feed?.publish(e),
    close: async () => {
      feed?.stop();
      hubFeed?.stop();
      await new Promise<void>((resolve) => {
        (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
        server.close(() => resolve());
      });
    },
  };
}
