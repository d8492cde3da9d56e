/**
 * Starts a throw-away PostgreSQL cluster, prints its URL as one line on stdout, and stops it when
 * stdin closes (so it never outlives the test runner that started it, even after `kill -9`).
 * Used by scripts/run-tests.mjs.
 */
import { startCluster } from './pg-cluster.ts';

const cluster = await startCluster();
const stop = () => {
  cluster.stop();
  process.exit(0);
};
process.stdin.on('end', stop);
process.stdin.on('close', stop);
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.stdout.write(`${cluster.url}\n`);
process.stdin.resume();
