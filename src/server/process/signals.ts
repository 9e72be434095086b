// SIGTERM and SIGINT stop a serving process once: the first one runs `stop`, later ones are
// ignored (a second Ctrl-C does not cut the drain short).
export function onStopSignal(stop: (signal: string) => Promise<void>): void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    void stop(signal);
  };
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
}
