// The lines a server logs as it starts: warnings and the connection budget (once, not once per
// worker) and the fields of its `listening` line.
import type { Logger } from '../../log.ts';
import { bracketed } from '../address-text.ts';
import { hostIdentity, identityFields } from '../answer/identity.ts';
import { warnFallback } from '../engine/pick.ts';
import { ECHO_DEFAULTS } from '../server-options.ts';
import type { ServeConfig } from './config.ts';
import type { Binding } from './messages.ts';

export function listenFields(
  config: ServeConfig,
  address: { address: string | null; port: number },
  binding: Binding,
): Record<string, string | number | undefined> {
  return {
    address:
      'fd' in binding
        ? `inherited fd ${binding.fd} (socket activation)`
        : `${bracketed(address.address ?? config.host)}:${address.port}`,
    proxy_protocol: config.echo.proxyProtocol ?? ECHO_DEFAULTS.proxyProtocol,
    workers: config.workers,
    engine: config.echo.engine,
    ...identityFields(config.echo.identity ?? hostIdentity()),
  };
}

/** The warnings a server gives once at start (not once per worker). */
export function warnAtStart(config: ServeConfig, logger: Logger): void {
  if (config.engineFallback !== null) warnFallback(logger, config.engineFallback);
  if (config.echo.trust === null && config.echo.proxyProtocol !== 'off') {
    logger.warn(
      'no --trust set: any address may send a PROXY header and claim to be any client; set --trust to the load balancer subnets',
    );
  }
}

/** With `--max-connections auto`, one line at start-up (once, not per worker) with the figure. */
export function noteConnectionBudget(config: ServeConfig, logger: Logger): void {
  const budget = config.connectionBudget;
  if (budget !== null) {
    logger.info(`--max-connections auto: ${budget.maxConnections} per process`, {
      open_file_limit: budget.limit ?? 'unlimited',
      reserved: budget.reserved,
      cap: budget.cap,
    });
  }
}
