// The EC2 instance metadata service, IMDSv2 only: a session token (PUT /latest/api/token),
// then the instance id, availability zone and region with it, all within one deadline.
//
// Asked once at start, so the server never waits long for it: a host where the service is
// slow, missing or refuses (a container one hop too far, IMDSv2 turned off) gets a reason
// back, never an exception, and serves with its host name alone. Each answer is read up to a
// small cap and must look like the value it claims to be, as it ends up in every answer.
import http from 'node:http';

export interface InstanceMetadata {
  readonly instanceId: string;
  readonly availabilityZone: string;
  readonly region: string;
}

export type MetadataResult =
  | { readonly ok: true; readonly metadata: InstanceMetadata }
  | { readonly ok: false; readonly reason: string };

/** The whole exchange (token and three values) must fit in this, ms. */
export const IMDS_DEADLINE_MS = 1000;
/** The token lives just long enough for the start-up questions. */
const TOKEN_TTL_SECONDS = 60;
/** A token is about 56 characters, the values shorter: anything longer is not the service. */
const MAX_ANSWER = 512;
/** Instance ids, zone and region names: lower-case letters, digits and dashes. */
const VALUE = /^[a-z0-9-]{1,64}$/;

/** What is asked with the token, in the order of InstanceMetadata's fields. */
const VALUE_PATHS = [
  '/latest/meta-data/instance-id',
  '/latest/meta-data/placement/availability-zone',
  '/latest/meta-data/placement/region',
] as const;

/** The instance's id, zone and region from the service at `endpoint`, or why not. */
export async function readInstanceMetadata(
  endpoint: string,
  deadlineMs = IMDS_DEADLINE_MS,
): Promise<MetadataResult> {
  const deadline = AbortSignal.timeout(deadlineMs);
  // One failed question ends the others at once, not at the deadline.
  const done = new AbortController();
  const signal = AbortSignal.any([deadline, done.signal]);
  try {
    const token = await ask(endpoint, 'PUT', '/latest/api/token', signal, {
      'X-aws-ec2-metadata-token-ttl-seconds': String(TOKEN_TTL_SECONDS),
    });
    const headers = { 'X-aws-ec2-metadata-token': token };
    const [instanceId, availabilityZone, region] = await Promise.all(
      VALUE_PATHS.map(async (path) =>
        checked(path, await ask(endpoint, 'GET', path, signal, headers)),
      ),
    );
    return { ok: true, metadata: { instanceId, availabilityZone, region } };
  } catch (error) {
    const reason = deadline.aborted
      ? `no answer within ${deadlineMs} ms`
      : ((error as NodeJS.ErrnoException).code ?? (error as Error).message);
    return { ok: false, reason: `instance metadata at ${endpoint}: ${reason}` };
  } finally {
    done.abort();
  }
}

function checked(path: string, value: string): string {
  if (!VALUE.test(value))
    throw new Error(`${path}: not a metadata value: ${JSON.stringify(value.slice(0, 64))}`);
  return value;
}

/** One request; resolves with the body of a 200 answer, rejects with why not. */
function ask(
  endpoint: string,
  method: 'GET' | 'PUT',
  path: string,
  signal: AbortSignal,
  headers: Record<string, string>,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      new URL(path, endpoint),
      // No proxy and no pooled socket: each question goes straight to the service.
      { method, headers, signal, agent: false },
      (response) => {
        if (response.statusCode !== 200) {
          response.resume();
          reject(new Error(`${method} ${path}: HTTP ${response.statusCode}`));
          return;
        }
        let body = '';
        response.setEncoding('latin1');
        response.on('data', (piece: string) => {
          body += piece;
          if (body.length > MAX_ANSWER)
            request.destroy(new Error(`${method} ${path}: answer over ${MAX_ANSWER} bytes`));
        });
        response.on('end', () => resolve(body));
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    request.end();
  });
}
