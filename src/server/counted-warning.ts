// One warning line a second for events that can come in floods.
import type { Logger } from '../log.ts';

/**
 * A warning for events that can come in floods (refused or failed accepts): the first one
 * starts a one-second window, then one line says how many happened in it. `stop` (the server
 * closing) says it at once for a window still open.
 */
export function countedWarning(
  logger: Logger,
  msg: string,
  fields: Record<string, string | number>,
) {
  let count = 0;
  let cause = '';
  let since = 0;
  let timer: NodeJS.Timeout | null = null;
  const report = () => {
    // The window's real length: a second, or less when the server closes within it.
    const window = `${Math.round((Date.now() - since) / 100) / 10}s`;
    logger.warn(msg, { ...fields, count, error: cause || undefined, window });
    count = 0;
    timer = null;
  };
  return {
    add(why = '') {
      cause = why;
      if (count++ > 0) return;
      since = Date.now();
      timer = setTimeout(report, 1000);
      timer.unref();
    },
    stop() {
      if (timer === null) return;
      clearTimeout(timer);
      report();
    },
  };
}
