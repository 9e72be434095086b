// One PROXY-protocol echo round trip against a running server, as a load balancer would start
// it: the header (built by our library) and a first line in one write, the line back (without
// the header), then `q` and the server's close. Shared by the end-to-end suites.
import * as assert from 'uvu/assert';
import { buildProxyHeader, type Endpoint } from '../../src/protocol/index.ts';
import { TestClient } from '../helpers/socket.ts';

/** The client address the headers claim (TEST-NET-3): what the server must log. */
export const CLAIMED_CLIENT = {
  v1: { address: '203.0.113.7', port: 40001 },
  v2: { address: '203.0.113.8', port: 40002 },
} as const;

export function proxyHeader(
  version: 1 | 2,
  destinationPort: number,
  source: Endpoint = version === 1 ? CLAIMED_CLIENT.v1 : CLAIMED_CLIENT.v2,
): Uint8Array {
  return buildProxyHeader({
    version,
    command: 'proxy',
    protocol: 'TCP4',
    source,
    destination: { address: '198.51.100.1', port: destinationPort },
  });
}

export async function assertProxyEcho(
  host: string,
  port: number,
  version: 1 | 2,
  timeoutMs = 5000,
): Promise<void> {
  const client = await openProxyConnection(host, port, version, undefined, timeoutMs);
  try {
    client.write('q\r\n');
    await client.waitClose(timeoutMs);
  } finally {
    client.destroy();
  }
}

/** Connects, sends the header and one line, checks the echo; the connection stays open. */
export async function openProxyConnection(
  host: string,
  port: number,
  version: 1 | 2,
  source?: Endpoint,
  timeoutMs = 5000,
): Promise<TestClient> {
  const client = await TestClient.connect(port, host);
  try {
    const line = `hello over PROXY v${version}\r\n`;
    client.write(Buffer.concat([proxyHeader(version, port, source), Buffer.from(line)]));
    await expectNext(client, 0, line, timeoutMs);
    return client;
  } catch (error) {
    client.destroy();
    throw error;
  }
}

/** Writes `line` on an open connection and checks that exactly it comes back next. */
export async function assertEchoes(
  client: TestClient,
  line: string,
  timeoutMs = 5000,
): Promise<void> {
  const before = client.received.length;
  client.write(line);
  await expectNext(client, before, line, timeoutMs);
}

async function expectNext(
  client: TestClient,
  offset: number,
  line: string,
  timeoutMs: number,
): Promise<void> {
  const got = await client.readBytes(offset + line.length, timeoutMs);
  assert.is(
    got.subarray(offset).toString('latin1'),
    line,
    'the line comes back byte for byte, without the header',
  );
}
