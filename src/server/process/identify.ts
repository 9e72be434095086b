// `--identity`: how the answers name this backend, settled once at start.
//
// - auto: the instance metadata when the machine says it is an EC2 instance, else the host name;
//   elsewhere not one packet is sent to the metadata address.
// - ec2: ask the metadata service whatever the machine says (a container that hides DMI).
// - host: the host name alone.
// - anything else: a label of the user's, shown beside the host name.
//
// What AWS documents for telling an instance from its firmware: Nitro instances (and bare
// metal) report `Amazon EC2` as the DMI system and board vendor; the older Xen instances have a
// hypervisor UUID (and a DMI product UUID, readable by root only) that starts with `ec2`.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ServerConfigError } from '../errors.ts';
import { hostIdentity, type ServerIdentity } from '../answer/identity.ts';

/** The link-local address every instance reaches its metadata service at. */
export const IMDS_ENDPOINT = 'http://169.254.169.254';

export type IdentityChoice = 'auto' | 'ec2' | 'host' | { readonly label: string };

const MAX_LABEL = 64;

/** `--identity`'s value: a mode, or a label of visible ASCII. */
export function parseIdentity(raw: string): IdentityChoice {
  if (raw === 'auto' || raw === 'ec2' || raw === 'host') return raw;
  if (!/^[!-~]+$/.test(raw) || raw.length > MAX_LABEL)
    throw new ServerConfigError(
      `a label is 1 to ${MAX_LABEL} visible ASCII characters without spaces, or auto, ec2, host`,
    );
  return { label: raw };
}

export function identityText(choice: IdentityChoice): string {
  return typeof choice === 'string' ? choice : choice.label;
}

export interface IdentifyOptions {
  /** The metadata service (IMDS_ENDPOINT; tests give a stand-in on loopback). */
  readonly endpoint: string;
  /** Where sysfs is mounted (`/sys`; tests give a tree of their own). */
  readonly sysDir: string;
  readonly host?: string;
  readonly deadlineMs?: number;
}

export interface Identified {
  readonly identity: ServerIdentity;
  /** Why the metadata could not be had, for a warning; null when nothing went wrong. */
  readonly problem: string | null;
}

export async function identify(
  choice: IdentityChoice,
  options: IdentifyOptions,
): Promise<Identified> {
  const host = hostIdentity(options.host);
  if (typeof choice === 'object')
    return { identity: { ...host, label: choice.label }, problem: null };
  if (choice === 'host' || (choice === 'auto' && !isEc2(options.sysDir)))
    return { identity: host, problem: null };
  // Loaded only here: a server that asks nothing does not load node:http for it.
  const { readInstanceMetadata } = await import('./imds.ts');
  const result = await readInstanceMetadata(options.endpoint, options.deadlineMs);
  if (!result.ok)
    return { identity: host, problem: `${result.reason}; answers name the host alone` };
  return { identity: { ...host, ...result.metadata }, problem: null };
}

/** True when the firmware says this machine is an EC2 instance (see the head of this file). */
export function isEc2(sysDir: string): boolean {
  const dmi = join(sysDir, 'class/dmi/id');
  return (
    read(join(dmi, 'sys_vendor')) === 'Amazon EC2' ||
    read(join(dmi, 'board_vendor')) === 'Amazon EC2' ||
    read(join(dmi, 'product_uuid')).toLowerCase().startsWith('ec2') ||
    read(join(sysDir, 'hypervisor/uuid')).toLowerCase().startsWith('ec2')
  );
}

/** A sysfs file's first line, or '' when it is absent or not ours to read. */
function read(path: string): string {
  try {
    return readFileSync(path, 'latin1').trim();
  } catch {
    return '';
  }
}
