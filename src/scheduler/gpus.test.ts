import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { gpuFacts, listGpus, parseGpuCsv } from './gpus.js';

const CSV = '0, NVIDIA H100 80GB HBM3, 81559\n1, NVIDIA H100 80GB HBM3, 81559\n';

describe('GPU discovery', () => {
  it('parses nvidia-smi csv', () => {
    assert.deepEqual(parseGpuCsv(CSV), [
      { index: 0, name: 'NVIDIA H100 80GB HBM3', memoryMb: 81559 },
      { index: 1, name: 'NVIDIA H100 80GB HBM3', memoryMb: 81559 },
    ]);
  });
  it('has no GPUs when nvidia-smi is missing or fails', async () => {
    assert.deepEqual(await listGpus(async () => null), []);
  });
  it('records the cards visible to a run', () => {
    const gpus = parseGpuCsv(CSV);
    assert.deepEqual(gpuFacts(gpus), { gpu: 'NVIDIA H100 80GB HBM3', gpuCount: 2 });
    assert.deepEqual(gpuFacts(gpus, '1'), { gpu: 'NVIDIA H100 80GB HBM3', gpuCount: 1 });
    assert.deepEqual(gpuFacts([]), { gpu: null, gpuCount: 0 });
  });
});
