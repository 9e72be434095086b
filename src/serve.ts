// `elb-proxy-echo serve`: options for the server, then listen.
import { createEchoServer } from './server/server.ts';
import { envName, integer, type OptionTable, parseOptions } from './options.ts';

export const serveOptions = {
  port: { flag: 'port', short: 'p', env: envName('port'), value: 'N', help: 'TCP port to listen on', default: 5000, parse: integer(0, 65535) },
} satisfies OptionTable;

export async function serve(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): Promise<void> {
  const { values } = parseOptions(serveOptions, argv, env);
  const server = createEchoServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(values.port, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : values.port;
  process.stdout.write(`listening on port ${port}\n`);
}
