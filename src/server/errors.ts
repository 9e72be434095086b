// The server's own error: a setting it cannot work with (a bad --trust entry, an open-file limit
// with no room for connections, a port it cannot listen on). Thrown at start-up only, never
// while serving; the CLI turns it into one line and exit status 2, as it does its own UsageError.
export class ServerConfigError extends Error {
  override name = 'ServerConfigError';
}
