// The process that holds --metrics-port (the only process, or the primary of --workers) opens
// it; node:http is loaded only then.
import type net from 'node:net';
import type { Logger } from '../../log.ts';
import { bracketed, hostPortText } from '../address-text.ts';
import { ServerConfigError } from '../errors.ts';
import type { HealthSwitch, ProcessReport } from '../metrics/port.ts';
import type { ServeConfig } from './config.ts';
import { listenErrorText } from './listen-error.ts';

export async function serveMetrics(
  config: ServeConfig,
  logger: Logger,
  collect: () => Promise<readonly ProcessReport[]>,
  health: HealthSwitch,
): Promise<net.Server> {
  const port = config.metricsPort ?? 0;
  let server: net.Server;
  try {
    const { startMetricsServer } = await import('../metrics/port.ts');
    server = await startMetricsServer(port, config.metricsHost, collect, health);
  } catch (error) {
    throw new ServerConfigError(
      `cannot serve metrics on ${hostPortText(config.metricsHost, port)}: ${listenErrorText(error, config.metricsHost, port, '--metrics-port')}`,
    );
  }
  const address = server.address() as net.AddressInfo;
  logger.notice(`metrics at http://${bracketed(config.metricsHost)}:${address.port}/metrics`);
  return server;
}
