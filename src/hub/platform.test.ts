import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { detectPlatform, type PlatformProbe } from './platform.ts';
import { platformKey, platformSchema } from './wire.ts';

const probe = (gpus: string[] | null): PlatformProbe => ({
  gpuNames: () => gpus,
  cpuModel: () => 'Some CPU @ 2GHz',
  nodeVersion: '20.11.1',
});

describe('platform fingerprint', () => {
  const dir = mkdtempSync(join(tmpdir(), 'platform-'));
  it('names the GPUs (model and count) when nvidia-smi answers, honouring CUDA_VISIBLE_DEVICES', () => {
    const p = detectPlatform(dir, probe(['NVIDIA H200', 'NVIDIA H200', 'NVIDIA H200']));
    assert.deepEqual(p, { gpu: { model: 'NVIDIA H200', count: 3 }, frameworks: { node: '20' } });
    assert.equal(detectPlatform(dir, probe(['NVIDIA H200', 'NVIDIA H200']), '1').gpu?.count, 1);
    assert.ok(platformSchema.safeParse(p).success, 'the hub accepts it');
  });
  it('else the CPU model and count; torch from uv.lock when pinned; stable keys', () => {
    const p = detectPlatform(dir, probe(null));
    assert.deepEqual(p.cpu, { model: `Some CPU @ 2GHz x${cpus().length}` });
    writeFileSync(join(dir, 'uv.lock'), '[[package]]\nname = "torch"\nversion = "2.9.1+cu128"\n');
    const withTorch = detectPlatform(dir, probe(null));
    assert.equal(withTorch.frameworks.torch, '2.9.1+cu128');
    assert.notEqual(platformKey(withTorch), platformKey(p), 'another torch: another platform');
    assert.equal(platformKey(detectPlatform(dir, probe(null))), platformKey(withTorch));
    rmSync(dir, { recursive: true, force: true });
  });
});
