/** Public surface of the runner module. */
export type { RunFailure, RunKind, RunResult, RunSpec, Runner } from './types.js';
export {
  ProcessRunner,
  createRunner,
  DEFAULT_KILL_GRACE_MS,
  DEFAULT_LOG_CAP_BYTES,
  type ProcessRunnerOptions,
} from './process-runner.js';
export { classifyRun, type Classification, type RunFacts } from './classify.js';
export { LogCapture, TAIL_BYTES, omittedMarker } from './log-capture.js';
export { parseMetrics, parseMetricValue, lastLines, cleanLine } from './metrics.js';
export { killGroup } from './process-group.js';
export {
  BwrapSandbox,
  NoSandbox,
  createSandbox,
  bwrapArgs,
  SANDBOX_HOME,
  type Sandbox,
  type SandboxMode,
  type SandboxPhase,
  type SandboxView,
  type CreateSandboxResult,
} from './sandbox.js';
export { isSecretName, secretValues, scrub, withoutSecrets, type Secret } from './secrets.js';
