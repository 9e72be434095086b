// The health of a serving process as the metrics port switches it: every request logged with
// who asked, and a change passed on (the primary of --workers tells its workers).
import type { Logger } from '../../log.ts';
import type { Health, HealthState } from '../health.ts';
import type { HealthSwitch } from '../metrics/port.ts';

export function healthSwitch(
  health: Health,
  logger: Logger,
  onChange: (state: HealthState) => void = () => {},
): HealthSwitch {
  return {
    get state() {
      return health.state;
    },
    switchTo(state, by) {
      const was = health.state;
      if (!health.set(state)) {
        logger.warn(`health: stays ${was}, not ${state}`, { by });
        return false;
      }
      logger.notice(`health: ${state}`, { was, by });
      if (state !== was) onChange(state);
      return true;
    },
  };
}
