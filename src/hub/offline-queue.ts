/**
 * Results waiting for the hub: a JSON file next to the contributor's workspace (written whole and
 * atomically, so a kill at any moment leaves the old list or the new). Each entry keeps its
 * result id, so posting it twice (once before a crash, once after) never duplicates on the hub.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { writeAtomic } from '../loop/write-atomic.js';

export interface QueuedPost {
  studyId: string;
  body: { id: string } & Record<string, unknown>;
  queuedAt: number;
}

export class OfflineQueue {
  constructor(readonly file: string) {}

  list(): QueuedPost[] {
    if (!existsSync(this.file)) return [];
    try {
      const parsed = JSON.parse(readFileSync(this.file, 'utf8')) as unknown;
      return Array.isArray(parsed) ? (parsed as QueuedPost[]) : [];
    } catch (err) {
      throw new Error(`the hub's offline queue ${this.file} is unreadable: ${(err as Error).message}`, { cause: err });
    }
  }

  /** Adds a post unless one with the same result id is queued already. */
  add(post: QueuedPost): void {
    const all = this.list();
    if (all.some((p) => p.body.id === post.body.id)) return;
    this.write([...all, post]);
  }

  remove(ids: Set<string>): void {
    if (ids.size === 0) return;
    this.write(this.list().filter((p) => !ids.has(p.body.id)));
  }

  private write(all: QueuedPost[]): void {
    mkdirSync(dirname(this.file), { recursive: true });
    writeAtomic(this.file, JSON.stringify(all, null, 1));
  }
}
