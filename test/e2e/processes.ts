// Waiting on a server process started by an end-to-end test.
import type { ChildProcess } from 'node:child_process';

/**
 * Resolves with the TCP port a freshly started server reports listening on (its first output
 * line that names a port, plain text or JSON); rejects if it exits first or after `timeoutMs`.
 */
export function waitForPort(child: ChildProcess, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(
      () => finish(new Error(`no port reported within ${timeoutMs} ms; output:\n${output}`)),
      timeoutMs,
    );
    const onData = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      const m = /listening\D*?port\D{1,4}(\d+)/i.exec(output) ?? /"port"\s*:\s*(\d+)/.exec(output);
      if (m) finish(null, Number(m[1]));
    };
    const onExit = (code: number | null, signal: string | null) =>
      finish(new Error(`exited (${code ?? signal}) before listening; output:\n${output}`));
    function finish(error: Error | null, port = 0): void {
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.stderr?.off('data', onData);
      child.off('exit', onExit);
      if (error) reject(error);
      else resolve(port);
    }
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.on('exit', onExit);
  });
}
