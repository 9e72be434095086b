// A stand-in for the EC2 instance metadata service on loopback: IMDSv2's token flow, or a slow or
// failing service. It counts every request, so a test can say none was sent.
import http from 'node:http';
import type net from 'node:net';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export const TOKEN = 'AQAEAFake-token-for-tests-only==';

export interface StandIn {
  readonly endpoint: string;
  /** Every request as `METHOD path`. */
  readonly requests: string[];
  /** Connections open now. */
  openConnections(): number;
  close(): Promise<void>;
}

export type Behaviour =
  | 'imdsv2'
  /** Accepts and never answers. */
  | 'silent'
  /** Refuses the token (IMDS turned off, or a hop too far): 403. */
  | 'forbidden'
  /** Answers the instance id with something that is not one. */
  | 'garbage'
  /** Answers the instance id with a body that never ends. */
  | 'endless'
  /** Has no instance id (404) and never answers the zone and region. */
  | 'partial';

const VALUES: Readonly<Record<string, string>> = {
  '/latest/meta-data/instance-id': 'i-0f1e2d3c4b5a69788',
  '/latest/meta-data/placement/availability-zone': 'eu-west-1b',
  '/latest/meta-data/placement/region': 'eu-west-1',
};

export async function startImds(behaviour: Behaviour = 'imdsv2'): Promise<StandIn> {
  const requests: string[] = [];
  const sockets = new Set<net.Socket>();
  const server = http.createServer((request, response) => {
    requests.push(`${request.method} ${request.url}`);
    if (behaviour === 'silent') return;
    if (request.url === '/latest/api/token') {
      const ttl = Number(request.headers['x-aws-ec2-metadata-token-ttl-seconds']);
      if (behaviour === 'forbidden' || request.method !== 'PUT' || !(ttl >= 1 && ttl <= 21600))
        return void response.writeHead(behaviour === 'forbidden' ? 403 : 400).end();
      return void response.end(TOKEN);
    }
    // IMDSv2: without the token, no answer.
    if (request.headers['x-aws-ec2-metadata-token'] !== TOKEN)
      return void response.writeHead(401).end();
    if (behaviour === 'partial')
      return void (request.url!.endsWith('instance-id') && response.writeHead(404).end());
    const value = VALUES[request.url ?? ''];
    if (value === undefined) return void response.writeHead(404).end();
    if (behaviour === 'endless' && request.url!.endsWith('instance-id')) {
      const pour = () => {
        while (response.write('i'.repeat(1024)));
      };
      response.on('drain', pour);
      return pour();
    }
    response.end(
      behaviour === 'garbage' && request.url!.endsWith('instance-id') ? 'i-<b>x</b>' : value,
    );
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    openConnections: () => sockets.size,
    close() {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** A sysfs tree holding `files` (paths under it, such as `class/dmi/id/sys_vendor`). */
export function fakeSys(files: Readonly<Record<string, string>>): {
  readonly dir: string;
  remove(): void;
} {
  const dir = mkdtempSync(join(tmpdir(), 'elb-proxy-echo-sys-'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), `${text}\n`);
  }
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
