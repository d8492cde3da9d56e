/**
 * GPU discovery through `nvidia-smi` (no CUDA libraries needed in the harness).
 *
 * Contract: never throws; a machine without nvidia-smi (or where it fails) has no GPUs. The
 * result says which cards a run used, so results from different hardware are never compared
 * as if equal.
 */
import { execFile } from 'node:child_process';

export interface Gpu {
  index: number;
  name: string;
  memoryMb: number | null;
}

export async function listGpus(run = execNvidiaSmi): Promise<Gpu[]> {
  const out = await run(['--query-gpu=index,name,memory.total', '--format=csv,noheader,nounits']);
  if (out === null) return [];
  return parseGpuCsv(out);
}

export function parseGpuCsv(text: string): Gpu[] {
  const gpus: Gpu[] = [];
  for (const line of text.split('\n')) {
    const parts = line.split(',').map((s) => s.trim());
    if (parts.length < 2 || !/^\d+$/.test(parts[0]!)) continue;
    const mem = Number(parts[2]);
    gpus.push({ index: Number(parts[0]), name: parts[1]!, memoryMb: Number.isFinite(mem) ? mem : null });
  }
  return gpus;
}

/** The facts recorded with each experiment: card names and count visible to the run. */
export function gpuFacts(gpus: Gpu[], visible?: string): { gpu: string | null; gpuCount: number } {
  let used = gpus;
  if (visible !== undefined && visible.trim() !== '') {
    const ids = new Set(visible.split(',').map((s) => s.trim()));
    used = gpus.filter((g) => ids.has(String(g.index)));
  }
  const names = [...new Set(used.map((g) => g.name))];
  return { gpu: names.length ? names.join(' + ') : null, gpuCount: used.length };
}

function execNvidiaSmi(args: string[]): Promise<string | null> {
  return new Promise((resolve) => {
    execFile('nvidia-smi', args, { timeout: 10_000, encoding: 'utf8' }, (err, stdout) => resolve(err ? null : stdout));
  });
}
