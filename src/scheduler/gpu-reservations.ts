/**
 * GPU reservations: two studies of one workspace never run on the same card. Each GPU a study
 * plans a slot on is locked (an OS-released lock, passed in as `tryLock`) for the study's whole
 * life; another study's "auto" plan uses only the free cards, and an explicit `[slots].gpus`
 * list naming a taken card is an error.
 *
 * Contract: `reserveSlots` never throws (beyond what `tryLock` throws for I/O errors); it returns
 * the slots with their reservations held, or a message (with nothing held). `release()` frees
 * every reservation it holds and may be called more than once. CPU plans hold nothing.
 */
import type { Gpu } from './gpus.js';
import { planSlots, type Slot, type SlotRequest } from './slots.js';

/** Who holds a taken card (the lock's side file). */
export interface GpuHolder {
  pid: number;
  tag?: string;
}

export type TryLock = (gpuIndex: number) => { ok: true; lock: { release(): void } } | { ok: false; holder: GpuHolder };

export interface Reserved {
  ok: true;
  slots: Slot[];
  /** Cards skipped because another study holds them ("auto" plans only). */
  taken: Array<{ index: number; holder: GpuHolder }>;
  /** One line for people when cards were skipped, else null. */
  notice: string | null;
  release(): void;
}

export function reserveSlots(
  req: SlotRequest,
  detected: Gpu[],
  tryLock: TryLock,
): Reserved | { ok: false; message: string } {
  const held: Array<{ release(): void }> = [];
  const release = () => {
    for (const l of held.splice(0)) l.release();
  };
  const fail = (message: string) => {
    release();
    return { ok: false as const, message };
  };

  if (req.gpus === 'none' || (req.gpus === 'auto' && detected.length === 0)) {
    const planned = planSlots(req, detected);
    return planned.ok ? { ok: true, slots: planned.slots, taken: [], notice: null, release } : planned;
  }

  if (Array.isArray(req.gpus)) {
    const planned = planSlots(req, detected);
    if (!planned.ok) return planned;
    const busy: Array<{ index: number; holder: GpuHolder }> = [];
    for (const s of planned.slots) {
      const r = tryLock(s.gpu!.index);
      if (r.ok) held.push(r.lock);
      else busy.push({ index: s.gpu!.index, holder: r.holder });
    }
    if (busy.length) {
      release();
      const free = detected
        .map((g) => g.index)
        .filter((i) => !busy.some((b) => b.index === i) && probeFree(i, tryLock));
      return fail(
        `[slots].gpus lists ${busy.map((b) => `GPU ${b.index}, in use by ${who(b.holder)}`).join('; ')}. ` +
          `Two studies never share a card: ${free.length ? `pick free GPUs in [slots].gpus (free now: ${free.join(', ')}), or ` : ''}stop that study first.`,
      );
    }
    return { ok: true, slots: planned.slots, taken: [], notice: null, release };
  }

  const wanted = req.count === 'auto' ? Infinity : req.count;
  const free: Gpu[] = [];
  const taken: Array<{ index: number; holder: GpuHolder }> = [];
  for (const g of detected) {
    if (free.length >= wanted) break;
    const r = tryLock(g.index);
    if (r.ok) {
      held.push(r.lock);
      free.push(g);
    } else taken.push({ index: g.index, holder: r.holder });
  }
  const inUse = taken.length ? describeTaken(taken) : '';
  if (free.length === 0) {
    return fail(
      `every GPU is in use by another study of this workspace (${inUse}). Stop it first, or run this study on CPU slots ([slots].gpus = "none").`,
    );
  }
  if (free.length < wanted && wanted !== Infinity && taken.length) {
    return fail(
      `${wanted} slots asked, but only ${free.length} GPU(s) are free (${inUse}); one experiment per card, never two. Use --slots ${free.length}, or stop that study first.`,
    );
  }
  const planned = planSlots({ count: req.count, gpus: 'auto' }, free);
  if (!planned.ok) return fail(planned.message);
  const notice = taken.length ? `${inUse}; this study uses GPU ${free.map((g) => g.index).join(', ')}` : null;
  return { ok: true, slots: planned.slots, taken, notice, release };
}

/** For the explicit-list message: whether nobody holds the card now (taken and let go at once). */
function probeFree(index: number, tryLock: TryLock): boolean {
  const r = tryLock(index);
  if (r.ok) r.lock.release();
  return r.ok;
}

function describeTaken(taken: Array<{ index: number; holder: GpuHolder }>): string {
  const byHolder = new Map<string, number[]>();
  for (const t of taken) byHolder.set(who(t.holder), [...(byHolder.get(who(t.holder)) ?? []), t.index]);
  return [...byHolder.entries()].map(([h, idx]) => `GPU ${idx.join(', ')} in use by ${h}`).join('; ');
}

function who(h: GpuHolder): string {
  return h.tag ? `study "${h.tag}" (pid ${h.pid})` : `another study (pid ${h.pid})`;
}
