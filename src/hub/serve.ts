/** The hub as a real listener: a pg pool, migrations, the Hono app on a node HTTP server. */
import { serve } from '@hono/node-server';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { createHubApp } from './app.js';
import { migrateHub } from './schema.js';
import type { HubLimits } from './wire.js';

export interface RunningHub {
  url: string;
  port: number;
  /** Stops accepting requests and closes the pool. */
  close(): Promise<void>;
}

export async function startHub(opts: {
  db: string;
  host?: string;
  port?: number;
  limits?: Partial<HubLimits>;
  clock?: () => number;
  poolSize?: number;
}): Promise<RunningHub> {
  const pool = new pg.Pool({ connectionString: opts.db, max: opts.poolSize ?? 20 });
  pool.on('error', (err) => console.error(`hub: database connection error: ${err.message}`));
  try {
    await migrateHub(pool);
  } catch (err) {
    await pool.end();
    throw err;
  }
  const app = createHubApp({ db: pool, limits: opts.limits, clock: opts.clock });
  const host = opts.host ?? '127.0.0.1';
  const server = await new Promise<ReturnType<typeof serve>>((resolve, reject) => {
    const s = serve({ fetch: app.fetch, hostname: host, port: opts.port ?? 8787 }, () => resolve(s));
    s.once('error', reject);
  });
  // Contributors poll every few seconds: keep their connections open longer than Node's 5 s so a
  // request does not race the server closing an idle socket.
  const http = server as unknown as { keepAliveTimeout: number; headersTimeout: number };
  http.keepAliveTimeout = 65_000;
  http.headersTimeout = 66_000;
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
      });
      await pool.end();
    },
  };
}
