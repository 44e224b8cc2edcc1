import os from 'node:os';
import { mulberry32 } from '../lib/random';
import { EmbeddingIndex } from '../scoring/embedding-index';

/**
 * Similar-customers queries on the in-memory index, without a database: `n` synthetic customers with 16-dimensional
 * embeddings (seeded), then timed queries of k = 10 and k = 100. Usage: npx tsx bench/similar.ts [n]
 */
const n = Number(process.argv[2] ?? 1_000_000);
const DIMS = 16;
const random = mulberry32(1);

let started = process.hrtime.bigint();
const index = new EmbeddingIndex();
const segments = ['Champions', 'Loyal', 'At risk', 'Hibernating'];
for (let i = 0; i < n; i++) {
  const embedding = Array.from({ length: DIMS }, () => random() * 2 - 1);
  index.add({ customerId: `C${String(i).padStart(7, '0')}`, embedding, segment: segments[i % 4]!, riskBand: i % 3 ? 'low' : 'high' });
}
const buildMs = Number(process.hrtime.bigint() - started) / 1e6;
const heapMb = process.memoryUsage().heapUsed / 2 ** 20;
const externalMb = process.memoryUsage().arrayBuffers / 2 ** 20;

function timeQueries(k: number, queries: number): number[] {
  const times: number[] = [];
  for (let q = 0; q < queries; q++) {
    const target = Array.from({ length: DIMS }, () => random() * 2 - 1);
    started = process.hrtime.bigint();
    const found = index.nearest(target, k, 'C0000000');
    times.push(Number(process.hrtime.bigint() - started) / 1e6);
    if (found.length !== k) throw new Error(`expected ${k} neighbours, got ${found.length}`);
  }
  return times.sort((a, b) => a - b);
}

timeQueries(10, 5); // warm-up: let V8 optimise the loop
console.log(
  `${n.toLocaleString('en')} × ${DIMS} index built in ${(buildMs / 1000).toFixed(1)} s; heap ${heapMb.toFixed(0)} MB, arrays ${externalMb.toFixed(0)} MB`,
);
for (const k of [10, 100]) {
  const times = timeQueries(k, 50);
  const at = (p: number) => times[Math.min(times.length - 1, Math.floor(p * times.length))]!.toFixed(1);
  console.log(`k=${k}: median ${at(0.5)} ms, p90 ${at(0.9)} ms, max ${at(1)} ms (50 queries)`);
}
console.log(
  `load average ${os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}; ${os.cpus()[0]?.model}; Node ${process.version}`,
);
