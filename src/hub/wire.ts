/**
 * What goes over the wire: zod schemas of every request body (anything else is a 400 naming the
 * field), the platform fingerprint and its key, and the hub's limits.
 */
import { hash } from 'node:crypto';
import { z } from 'zod';

const sha = z.string().regex(/^[0-9a-f]{40}([0-9a-f]{24})?$/, 'a full git commit id (40 or 64 hex characters)');

export const platformSchema = z
  .strictObject({
    gpu: z.strictObject({ model: z.string().min(1).max(200), count: z.number().int().min(1).max(1024) }).optional(),
    cpu: z.strictObject({ model: z.string().min(1).max(200) }).optional(),
    frameworks: z.record(z.string().min(1).max(64), z.string().max(64)).default({}),
  })
  .refine((p) => (p.gpu !== undefined) !== (p.cpu !== undefined), {
    message: 'a platform names either its gpu {model, count} or its cpu {model}',
  });
export type Platform = z.output<typeof platformSchema>;

/** Same hardware + software -> same key, whatever the order of keys. */
export function platformKey(p: Platform): string {
  const frameworks = Object.fromEntries(Object.entries(p.frameworks).sort(([a], [b]) => a.localeCompare(b)));
  const canonical = JSON.stringify({ gpu: p.gpu ?? null, cpu: p.cpu ?? null, frameworks });
  return hash('sha256', canonical, 'hex').slice(0, 16);
}

export const publishSchema = z.strictObject({
  name: z.string().min(1).max(200),
  metric: z.string().min(1).max(100),
  direction: z.enum(['minimize', 'maximize']),
  tolerance: z
    .number()
    .min(0)
    .describe('absolute: a reproduction within this of the claim confirms it (the study noise)'),
  baselineCommit: sha,
  bundleBase64: z.string().min(1),
  config: z.string().max(200_000),
  program: z.string().max(200_000),
});
export type PublishBody = z.output<typeof publishSchema>;

export const RESULT_STATUSES = ['keep', 'discard', 'crash', 'timeout', 'rejected', 'baseline'] as const;

export const resultSchema = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9_-]{8,100}$/, 'a client-chosen id (8-100 of [A-Za-z0-9_-]); retries reuse it'),
  workId: z.number().int().positive().optional(),
  parent: sha,
  commit: sha,
  diff: z.string().max(1_000_000),
  value: z.number().finite().nullable(),
  status: z.enum(RESULT_STATUSES),
  description: z.string().max(2000).default(''),
  platform: platformSchema,
});
export type ResultBody = z.output<typeof resultSchema>;

export const workRequestSchema = z.strictObject({ platform: platformSchema });

export const queueSchema = z.strictObject({
  parent: sha,
  diff: z.string().max(1_000_000),
  description: z.string().max(2000).default(''),
  platform: platformSchema.optional(),
});

export const noteSchema = z.strictObject({
  key: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,100}$/)
    .optional(),
  commit: sha.optional(),
  text: z.string().min(1).max(2000),
});

export const studyIdSchema = z.uuid();

/** What the hub accepts; every figure is a knob so tests can make it small. */
export interface HubLimits {
  /** Largest request body (bytes) except publish. */
  bodyBytes: number;
  /** Largest publish body (bytes, the bundle base64-encoded inside). */
  publishBytes: number;
  /** Lease on handed-out work (ms); heartbeats extend it by this much. */
  leaseMs: number;
  /** Requests per second per token (sustained), and the burst allowed. */
  ratePerSecond: number;
  rateBurst: number;
}

export const DEFAULT_LIMITS: HubLimits = {
  bodyBytes: 2 * 1024 * 1024,
  publishBytes: 64 * 1024 * 1024,
  leaseMs: 15 * 60_000,
  ratePerSecond: 20,
  rateBurst: 60,
};

/** Turns a zod error into one line naming the fields. */
export function explainZod(err: z.ZodError): string {
  return err.issues
    .slice(0, 5)
    .map((i) => `${i.path.length ? i.path.join('.') : 'body'}: ${i.message}`)
    .join('; ');
}
