/**
 * `autoresearch hub serve|token|queue`: run the hub (HTTP API over PostgreSQL) for untrusted
 * contributors, manage their tokens, and (a study owner) queue experiments (./hub-queue.ts).
 * The database URL comes from --db or AUTORESEARCH_HUB_DB (prefer the env var: a password on
 * the command line shows in `ps`).
 */
import type { Command } from 'commander';
import pg from 'pg';
import { migrateHub } from '../../hub/schema.js';
import { startHub } from '../../hub/serve.js';
import { createContributor, revokeContributor } from '../../hub/tokens.js';
import { numberFlag, UserError } from '../common.js';
import { registerHubQueue } from './hub-queue.js';

interface DbFlag {
  db?: string;
}

function dbUrl(flags: DbFlag): string {
  const url = flags.db ?? process.env.AUTORESEARCH_HUB_DB;
  if (!url)
    throw new UserError('the hub needs a PostgreSQL database: pass --db postgres://... or set AUTORESEARCH_HUB_DB');
  if (!/^postgres(ql)?:\/\//.test(url))
    throw new UserError(`--db expects a postgres:// URL, got "${url.slice(0, 40)}"`);
  return url;
}

function dbError(err: unknown): UserError {
  return new UserError(
    `cannot use the hub database: ${(err as Error).message} (is PostgreSQL running, is the URL right?)`,
  );
}

/** Opens the database, applies the hub's migrations, runs `fn`, closes. */
async function withDb<T>(flags: DbFlag, fn: (pool: pg.Pool) => Promise<T>): Promise<T> {
  const pool = new pg.Pool({ connectionString: dbUrl(flags), max: 1 });
  pool.on('error', () => {});
  try {
    try {
      await migrateHub(pool);
    } catch (err) {
      throw dbError(err);
    }
    return await fn(pool);
  } finally {
    await pool.end();
  }
}

export function registerHub(program: Command): void {
  const hub = program
    .command('hub')
    .description('run a hub that lets untrusted contributors share one study (HTTP API over PostgreSQL)')
    .addHelpText(
      'after',
      `
A hub keeps, per study: an exploration tree of results (every result is a node with its parent),
one verified best per platform (GPU model + count or CPU model, framework versions), a notes
board, and work it hands out with leases. A claimed keep is provisional until another
contributor on the same platform reproduces it within the study's tolerance; only verified
claims move a platform's best, and contributors whose claims fail verification are flagged.

Examples:
  export AUTORESEARCH_HUB_DB=postgres://hub@127.0.0.1:5432/hub
  autoresearch hub token create alice        # prints alice's token once; give it to alice
  autoresearch hub serve --port 8787         # http://127.0.0.1:8787
  autoresearch hub token revoke alice        # alice's token stops working at once
  AUTORESEARCH_HUB_TOKEN=arh_... autoresearch hub queue <study-url> --diff x.diff --parent <sha> --description "..."`,
    );

  hub
    .command('serve')
    .description('serve the hub API until interrupted (state is all in PostgreSQL: restart any time)')
    .option('--db <url>', 'PostgreSQL URL (default: $AUTORESEARCH_HUB_DB)')
    .option('--host <host>', 'address to listen on (0.0.0.0 to accept other machines)', '127.0.0.1')
    .option('--port <port>', 'port (0 picks a free one)', numberFlag('--port', true), 8787)
    .option('--lease-seconds <s>', 'lease on handed-out work; heartbeats extend it', numberFlag('--lease-seconds'), 900)
    .option('--pool <n>', 'PostgreSQL connections the hub holds', numberFlag('--pool', true), 20)
    .action(async (flags: DbFlag & { host: string; port: number; leaseSeconds: number; pool: number }) => {
      const db = dbUrl(flags);
      let running: Awaited<ReturnType<typeof startHub>>;
      try {
        running = await startHub({
          db,
          host: flags.host,
          port: flags.port,
          limits: { leaseMs: flags.leaseSeconds * 1000 },
        });
      } catch (err) {
        const e = err as NodeJS.ErrnoException;
        if (e.code === 'EADDRINUSE') throw new UserError(`port ${flags.port} is in use; pick another with --port`);
        throw dbError(err);
      }
      process.stdout.write(`hub listening on ${running.url}\n`);
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      await running.close();
      process.stdout.write('hub stopped\n');
    });

  registerHubQueue(hub);

  const token = hub.command('token').description('create or revoke contributor tokens');
  token
    .command('create')
    .description('create a contributor and print its token (shown once; only its hash is stored)')
    .argument('<name>', 'contributor name (letters, digits, . _ -)')
    .option('--db <url>', 'PostgreSQL URL (default: $AUTORESEARCH_HUB_DB)')
    .action(async (name: string, flags: DbFlag) => {
      const r = await withDb(flags, (pool) => createContributor(pool, name, Date.now()));
      if (r.kind === 'bad-name')
        throw new UserError(`"${name}" is not a valid name: use 1-64 of letters, digits, . _ -`);
      if (r.kind === 'exists') throw new UserError(`a contributor "${name}" exists already; pick another name`);
      process.stdout.write(`${r.token}\n`);
      process.stderr.write(
        `token for "${name}" created; it is shown only now. The contributor sets AUTORESEARCH_HUB_TOKEN to it.\n`,
      );
    });
  token
    .command('revoke')
    .description('revoke a contributor token (its results stay, attributed; the token stops working)')
    .argument('<name>', 'contributor name')
    .option('--db <url>', 'PostgreSQL URL (default: $AUTORESEARCH_HUB_DB)')
    .action(async (name: string, flags: DbFlag) => {
      const ok = await withDb(flags, (pool) => revokeContributor(pool, name, Date.now()));
      if (!ok) throw new UserError(`no contributor "${name}"`);
      process.stdout.write(`revoked "${name}"\n`);
    });
}
