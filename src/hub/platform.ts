/**
 * This machine's platform fingerprint for the hub (a fixed-time result depends on the hardware):
 * the GPU model and count from `nvidia-smi` when it answers (CUDA_VISIBLE_DEVICES honoured by
 * nvidia-smi's own listing is not applied: the count is of the GPUs the study's slots see), else
 * the CPU model; frameworks: node's version, and torch's when the workspace's `uv.lock` pins it.
 *
 * Contract: never throws; the same machine and workspace give the same fingerprint every time
 * (the hub's idempotent posts compare bodies, so it must be stable across restarts).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import type { Platform } from './wire.js';

export interface PlatformProbe {
  /** nvidia-smi's GPU names, one per GPU; null when there is no nvidia-smi. */
  gpuNames(): string[] | null;
  cpuModel(): string;
  nodeVersion: string;
}

export const systemProbe: PlatformProbe = {
  gpuNames() {
    try {
      const out = execFileSync('nvidia-smi', ['--query-gpu=name', '--format=csv,noheader'], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
        timeout: 10_000,
      });
      const names = out
        .split('\n')
        .map((l) => l.trim())
        .filter(Boolean);
      return names.length ? names : null;
    } catch {
      return null;
    }
  },
  cpuModel: () => cpus()[0]?.model.trim() || 'unknown CPU',
  nodeVersion: process.versions.node,
};

export function detectPlatform(root: string, probe: PlatformProbe = systemProbe, visibleGpus?: string): Platform {
  const frameworks: Record<string, string> = { node: probe.nodeVersion.split('.')[0]! };
  const torch = torchVersion(root);
  if (torch) frameworks.torch = torch;
  let names = probe.gpuNames();
  if (names && visibleGpus !== undefined && visibleGpus.trim() !== '') {
    const keep = visibleGpus.split(',').map((s) => Number(s.trim()));
    names = names.filter((_, i) => keep.includes(i));
  }
  if (names && names.length > 0) return { gpu: { model: names[0]!.slice(0, 200), count: names.length }, frameworks };
  return { cpu: { model: `${probe.cpuModel().slice(0, 180)} x${cpus().length}` }, frameworks };
}

/** torch's version pinned in the workspace's uv.lock, if any (cheap: one file read). */
function torchVersion(root: string): string | null {
  const lock = join(root, 'uv.lock');
  if (!existsSync(lock)) return null;
  const m = /\[\[package\]\]\s*\nname = "torch"\s*\nversion = "([^"]+)"/.exec(readFileSync(lock, 'utf8'));
  return m ? m[1]!.slice(0, 64) : null;
}
