/**
 * Slot planning: where experiments run at once. One slot per GPU (never two experiments on one
 * card, through CUDA_VISIBLE_DEVICES), or CPU slots for CPU workloads.
 *
 * Contract: `planSlots` never throws; it returns a message when the request can't be honoured.
 */
import type { Gpu } from './gpus.js';

export interface Slot {
  index: number;
  /** The card this slot owns, or null for a CPU slot. */
  gpu: Gpu | null;
  /** Environment for runs in this slot (CUDA_VISIBLE_DEVICES for a GPU slot). */
  env: Record<string, string>;
  /** Short label for people: "gpu0" or "cpu0". */
  label: string;
}

export interface SlotRequest {
  /** "auto": one per GPU (or one CPU slot when there is none); or a number. */
  count: 'auto' | number;
  /** "auto": the GPUs nvidia-smi lists; "none": CPU slots; or explicit GPU indices. */
  gpus: 'auto' | 'none' | number[];
}

export function planSlots(
  req: SlotRequest,
  detected: Gpu[],
): { ok: true; slots: Slot[] } | { ok: false; message: string } {
  let gpus: Gpu[];
  if (req.gpus === 'none') gpus = [];
  else if (req.gpus === 'auto') gpus = detected;
  else {
    const missing = req.gpus.filter((i) => detected.length > 0 && !detected.some((g) => g.index === i));
    if (missing.length) {
      return {
        ok: false,
        message: `[slots].gpus lists GPU ${missing.join(', ')}, but nvidia-smi shows ${detected.map((g) => g.index).join(', ') || 'none'}`,
      };
    }
    gpus = req.gpus.map((i) => detected.find((g) => g.index === i) ?? { index: i, name: `GPU ${i}`, memoryMb: null });
  }
  if (gpus.length === 0) {
    const n = req.count === 'auto' ? 1 : req.count;
    return {
      ok: true,
      slots: Array.from({ length: n }, (_, i) => ({ index: i, gpu: null, env: {}, label: `cpu${i}` })),
    };
  }
  const n = req.count === 'auto' ? gpus.length : req.count;
  if (n > gpus.length) {
    return {
      ok: false,
      message: `${n} slots asked, but only ${gpus.length} GPU(s): one experiment per card, never two. Use --slots ${gpus.length} (or [slots].gpus = "none" for CPU slots).`,
    };
  }
  return {
    ok: true,
    slots: gpus
      .slice(0, n)
      .map((g, i) => ({ index: i, gpu: g, env: { CUDA_VISIBLE_DEVICES: String(g.index) }, label: `gpu${g.index}` })),
  };
}
