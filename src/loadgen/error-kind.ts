// Socket errors by kind: the stable short names a run's report groups its errors by.

/** Error kind for a socket error: stable short names the report groups by. */
export function errorKind(error: NodeJS.ErrnoException): string {
  switch (error.code) {
    case 'ECONNREFUSED':
      return 'refused';
    case 'ECONNRESET':
    case 'EPIPE':
      return 'reset';
    case 'ETIMEDOUT':
      return 'timeout';
    case 'EADDRNOTAVAIL':
    case 'EADDRINUSE':
      return 'no-source-port';
    case 'EMFILE':
    case 'ENFILE':
      return 'fd-limit';
    default:
      return (error.code ?? 'error').toLowerCase();
  }
}
