// The one place that knows the package version (bundled into the executable by esbuild).
import pkg from '../package.json' with { type: 'json' };

export const VERSION: string = pkg.version;

/** `elb-proxy-echo 0.1.0 (node v24.21.0, linux-x64)` */
export function versionLine(): string {
  return `elb-proxy-echo ${VERSION} (node ${process.version}, ${process.platform}-${process.arch})`;
}
