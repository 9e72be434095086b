// Which backend answered: the host name and, on EC2, the instance, its availability zone and
// region (or a label the user gave). Settled once at start (process/identify.ts); every answer
// that names the backend says it the same way, so a person behind a balancer can count which
// instances and zones their connections reached.
import { hostname } from 'node:os';

export interface ServerIdentity {
  /** This machine's host name. */
  readonly host: string;
  /** `--identity TEXT`: the user's own name for this backend. */
  readonly label?: string;
  /** From the instance metadata service (`i-…`). */
  readonly instanceId?: string;
  readonly availabilityZone?: string;
  readonly region?: string;
}

/** The identity when nothing more than the host is known. */
export function hostIdentity(host = hostname()): ServerIdentity {
  return { host };
}

/**
 * The identity in a few words, as the greeting and the text answer start:
 * `ip-10-0-11-239 (i-0f1e2d3c4b5a69788, us-east-1a, us-east-1)`, `ip-10-0-11-239 (blue)`.
 */
export function identityPhrase(identity: ServerIdentity): string {
  const more = [
    identity.label,
    identity.instanceId,
    identity.availabilityZone,
    identity.region,
  ].filter((part) => part !== undefined);
  return more.length === 0 ? identity.host : `${identity.host} (${more.join(', ')})`;
}

/** The identity as log fields (absent parts left out). */
export function identityFields(identity: ServerIdentity): Record<string, string | undefined> {
  return {
    host: identity.host,
    label: identity.label,
    instance_id: identity.instanceId,
    availability_zone: identity.availabilityZone,
    region: identity.region,
  };
}
