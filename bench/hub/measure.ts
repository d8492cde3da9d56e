/**
 * What bench:hub (./load.ts) measures besides latency: CPU seconds of the hub's and PostgreSQL's
 * processes (from /proc), and one hand-out explained (HUB_BENCH_PG_STATS=1).
 */
import { readdirSync, readFileSync } from 'node:fs';
import type pg from 'pg';
import { HAND_OUT, HAND_OUT_SETTINGS } from '../../src/hub/work.js';
import { type Platform, platformKey } from '../../src/hub/wire.js';

const TICK = 100; // USER_HZ on Linux

/**
 * CPU seconds (user + system) used so far by these processes (from /proc; exited ones count 0),
 * plus, with `children`, what their exited children used (a postmaster's ended backends).
 */
export function cpuSeconds(pids: number[], children = false): number {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = f.slice(f.lastIndexOf(')') + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
      if (children) ticks += Number(fields[13]) + Number(fields[14]);
    } catch {
      // gone
    }
  }
  return ticks / TICK;
}

/** `pid` and its live descendants (a hub run with several worker processes). */
export function withDescendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const f = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(f.slice(f.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(name)]);
    } catch {
      // gone
    }
  }
  const out = [pid];
  for (let i = 0; i < out.length; i++) out.push(...(children.get(out[i]!) ?? []));
  return out;
}

/** Our PostgreSQL server's processes: its postmaster (started with `-p <port>`) and its children. */
export function postgresPids(port: number): number[] {
  const all: Array<{ pid: number; ppid: number; comm: string }> = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const f = readFileSync(`/proc/${name}/stat`, 'utf8');
      const comm = f.slice(f.indexOf('(') + 1, f.lastIndexOf(')'));
      all.push({ pid: Number(name), ppid: Number(f.slice(f.lastIndexOf(')') + 2).split(' ')[1]), comm });
    } catch {
      // gone
    }
  }
  const master = all.find((p) => {
    if (p.comm !== 'postgres') return false;
    try {
      return readFileSync(`/proc/${p.pid}/cmdline`, 'utf8').split('\0').join(' ').includes(`-p ${port} `);
    } catch {
      return false;
    }
  });
  if (!master) return [];
  return [master.pid, ...all.filter((p) => p.ppid === master.pid).map((p) => p.pid)];
}

/** EXPLAIN (ANALYZE, BUFFERS) of one hand-out to contributor c1 on `platform` (the hub function's statement under its settings), rolled back. */
export async function explainHandOut(pool: pg.Pool, study: string, platform: Platform): Promise<string> {
  const c = await pool.connect();
  try {
    await c.query('BEGIN');
    for (const [k, v] of Object.entries(HAND_OUT_SETTINGS)) await c.query(`SET LOCAL ${k} = ${v}`);
    const lit = (v: string) => `'${v.replace(/'/g, "''")}'`;
    const id = (await c.query("SELECT id FROM hub_contributors WHERE name = 'c1'")).rows[0].id;
    await c.query(`PREPARE probe(uuid, text, bigint, bigint, bigint) AS ${HAND_OUT}`);
    const r = await c.query(
      `EXPLAIN (ANALYZE, BUFFERS) EXECUTE probe(${lit(study)}, ${lit(platformKey(platform))}, ${id}, ${Date.now()}, 600000)`,
    );
    return r.rows.map((row) => row['QUERY PLAN']).join('\n');
  } finally {
    await c.query('ROLLBACK').catch(() => {});
    await c.query('DEALLOCATE probe').catch(() => {});
    c.release();
  }
}
