// Why a command line or an environment variable cannot be used: the CLI turns these into a
// one-line reason and exit status 2 before anything starts.
import { ServerConfigError } from './server/errors.ts';

export class UsageError extends Error {
  override name = 'UsageError';
}

/** A bad setting, from the options or from the server below them: exit status 2. */
export function isSettingError(error: unknown): error is Error {
  return error instanceof UsageError || error instanceof ServerConfigError;
}
