// /etc/default/elb-proxy-echo: the service's options as ELB_PROXY_ECHO_* variables, in the
// syntax of systemd's EnvironmentFile= (one KEY=VALUE a line, double quotes for anything else
// than plain characters, backslash before \ " ` and $ inside them).
import { UsageError } from '../options.ts';
import { OWNED_MARKER } from './files.ts';

const PLAIN = /^[A-Za-z0-9_.,:/@%+=-]*$/;

export function envFileValue(value: string): string {
  if (/[\n\r\0]/.test(value))
    throw new UsageError(`a value cannot span lines: ${JSON.stringify(value)}`);
  if (PLAIN.test(value)) return value;
  return `"${value.replace(/[\\"`$]/g, '\\$&')}"`;
}

/** The whole file: a comment saying where it comes from, then one line per variable. */
export function envFileText(variables: ReadonlyMap<string, string>): string {
  const lines = [
    '# Options of the elb-proxy-echo service (read by its unit through EnvironmentFile=).',
    '# One ELB_PROXY_ECHO_* variable per option: see `elb-proxy-echo --help`.',
    '# After a change: systemctl restart elb-proxy-echo',
    `# ${OWNED_MARKER} (\`elb-proxy-echo uninstall\` removes only files with this line)`,
  ];
  for (const [name, value] of variables) lines.push(`${name}=${envFileValue(value)}`);
  return `${lines.join('\n')}\n`;
}
