// A scrape of the primary's metrics port: every worker asked for its report over IPC.
import type { ProcessReport } from '../metrics/port.ts';
import { METRICS_REPLY, METRICS_REQUEST, type MetricsReply } from './messages.ts';

/** The part of a worker a scrape uses. */
export interface ReportingWorker {
  readonly id: number;
  isConnected(): boolean;
  send(message: unknown): unknown;
}

/** Where workers' replies arrive (cluster: 'message' with the worker and the message). */
export interface ReplySource {
  on(event: 'message', listener: (worker: ReportingWorker, message: MetricsReply) => void): unknown;
}

/**
 * A scrape asks every worker for its report; a worker that does not answer within `waitMs` is
 * left out. One listener on `source` serves every scrape in flight (a listener per scrape and
 * worker would pile up under concurrent scrapes).
 */
export function reportCollector(
  source: ReplySource,
  workers: () => readonly ReportingWorker[],
  waitMs = 1000,
): () => Promise<ProcessReport[]> {
  const waiting = new Map<string, (report: ProcessReport | null) => void>();
  let nextId = 0;
  source.on('message', (worker, message) => {
    if (message?.type === METRICS_REPLY)
      waiting.get(`${message.id}/${worker.id}`)?.(message.report);
  });
  const ask = (worker: ReportingWorker, id: number) =>
    new Promise<ProcessReport | null>((resolve) => {
      const key = `${id}/${worker.id}`;
      const timer = setTimeout(() => settle(null), waitMs);
      const settle = (report: ProcessReport | null) => {
        clearTimeout(timer);
        waiting.delete(key);
        resolve(report);
      };
      waiting.set(key, settle);
      worker.send({ type: METRICS_REQUEST, id });
    });
  return async () => {
    const id = ++nextId;
    const asked = workers().filter((worker) => worker.isConnected());
    const reports = await Promise.all(asked.map((worker) => ask(worker, id)));
    return reports.filter((r): r is ProcessReport => r !== null);
  };
}
