// Who must, may or must not send a PROXY header, and telling a header's start from plain data.
import { V1_SIGNATURE, V2_SIGNATURE } from '../protocol/constants.ts';
import { MAYBE, NO, type Verdict, YES } from './verdict.ts';

export const POLICIES = ['require', 'optional', 'off'] as const;
/**
 * require: every connection starts with a header (from a trusted peer when --trust is set);
 * optional: a header is used when one is present (only trusted peers may send one);
 * off: no header is parsed, every byte is data.
 */
export type Policy = (typeof POLICIES)[number];

/**
 * For the optional policy: do these first bytes start a PROXY header (v1 `PROXY ` or the v2
 * signature)? MAYBE while they are still a prefix of one. Only a whole signature is a yes, so
 * a line of data such as `PRO` or `PROXIMITY` stays data.
 */
export function startsLikeHeader(bytes: Uint8Array): Verdict {
  const signature = bytes[0] === V1_SIGNATURE[0] ? V1_SIGNATURE : V2_SIGNATURE;
  const n = Math.min(bytes.length, signature.length);
  for (let i = 0; i < n; i++) if (bytes[i] !== signature[i]) return NO;
  return n === signature.length ? YES : MAYBE;
}
