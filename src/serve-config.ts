// The values of serve's options, checked together and turned once into a frozen config.
import { duration, type OptionValues, UsageError } from './options.ts';
import type { serveOptions } from './serve-options.ts';
import type { TlsOptions } from './server/answer/tls-handoff.ts';
import { type EngineChoice, type PickedEngine, pickEngine } from './server/engine/pick.ts';
import { METRICS_LIMITS } from './server/metrics/limits.ts';
import type { ServeConfig } from './server/process/config.ts';
import { type ConnectionBudget, readConnectionBudget } from './server/process/descriptors.ts';
import { ECHO_DEFAULTS } from './server/server-options.ts';

/** `budget` is asked only for `--max-connections auto` (it reads this process's descriptor limit). */
export function toConfig(
  values: OptionValues<typeof serveOptions>,
  cpus: number,
  budget: (extra: number) => ConnectionBudget = (extra) =>
    readConnectionBudget(ECHO_DEFAULTS.maxConnections, extra),
): ServeConfig {
  if (values.metricsPort === String(values.port) && values.port !== 0) {
    throw new UsageError(`--metrics-port ${values.metricsPort} is the echo port too; pick another`);
  }
  const ms = duration(Number.MAX_SAFE_INTEGER);
  // The metrics listener and its connections take descriptors too.
  const metricsDescriptors = values.metricsPort === 'off' ? 0 : 1 + METRICS_LIMITS.connections;
  const connectionBudget = values.maxConnections === 'auto' ? budget(metricsDescriptors) : null;
  const engine = engineFor(values.engine);
  return Object.freeze({
    port: values.port,
    host: values.host,
    backlog: values.backlog,
    echo: Object.freeze({
      proxyProtocol: values.proxyProtocol,
      trust: values.trust,
      headerTimeoutMs: ms(values.headerTimeout),
      idleTimeoutMs: ms(values.idleTimeout),
      keepAliveMs: values.keepalive === 'off' ? 0 : ms(values.keepalive),
      maxLine: values.maxLine,
      maxConnections: connectionBudget?.maxConnections ?? Number(values.maxConnections),
      transform: values.transform,
      engine: engine.engine.name,
      greeting: values.greeting,
      http: values.http,
      tls: tlsOf(values),
    }),
    engineFallback: engine.fallback,
    logLevel: values.logLevel,
    logFormat: values.logFormat,
    metricsPort: values.metricsPort === 'off' ? null : Number(values.metricsPort),
    metricsHost: values.metricsHost,
    workers: values.workers === 'auto' ? Math.max(1, cpus) : Number(values.workers),
    drainDelayMs: ms(values.drainDelay),
    drainTimeoutMs: ms(values.drainTimeout),
    connectionBudget,
  });
}

/** The TLS settings: both files or neither; the files themselves are read when the server starts. */
function tlsOf(values: OptionValues<typeof serveOptions>): TlsOptions | null {
  const { tlsCert: cert, tlsKey: key, tlsClientCa: clientCa } = values;
  if (cert === null && key === null) {
    if (clientCa !== null) throw new UsageError('--tls-client-ca needs --tls-cert and --tls-key');
    if (values.tls === 'require')
      throw new UsageError('--tls require needs --tls-cert and --tls-key');
    return null;
  }
  if (cert === null || key === null)
    throw new UsageError(
      `${cert === null ? '--tls-key' : '--tls-cert'} needs ${cert === null ? '--tls-cert' : '--tls-key'} too`,
    );
  return Object.freeze({
    files: Object.freeze({ cert, key, clientCa }),
    require: values.tls === 'require',
  });
}

function engineFor(choice: EngineChoice): PickedEngine {
  try {
    return pickEngine(choice);
  } catch (error) {
    throw new UsageError(`--engine ${choice}: ${(error as Error).message}`);
  }
}
