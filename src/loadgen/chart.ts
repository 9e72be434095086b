// A plain SVG bar chart, written by hand: one panel per figure (lines/s, connections/s, memory
// per connection, …), one horizontal bar per server, the value printed at the end of each bar.
// Written as is, or inside a minimal HTML page.
import { writeFileSync } from 'node:fs';
import { type BackendResult, backendParts, UNNAMED } from './backends.ts';
import { headline, num, sharesOf } from './report.ts';
import type { RunResult } from './result.ts';

export interface Panel {
  readonly title: string;
  readonly bars: readonly {
    readonly label: string;
    readonly value: number;
    readonly highlight?: boolean;
  }[];
}

const WIDTH = 760;
const LABEL_WIDTH = 210;
const BAR_AREA = 440;
const BAR_HEIGHT = 20;
const GAP = 6;
const PANEL_TITLE = 28;
const PANEL_GAP = 18;

function escapeXml(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;');
}

export function barChart(title: string, panels: readonly Panel[]): string {
  const parts: string[] = [];
  let y = 40;
  parts.push(`<text x="16" y="26" font-size="18" font-weight="bold">${escapeXml(title)}</text>`);
  for (const panel of panels) {
    parts.push(
      `<text x="16" y="${y + 18}" font-size="14" font-weight="bold">${escapeXml(panel.title)}</text>`,
    );
    y += PANEL_TITLE;
    const finite = panel.bars.filter((b) => Number.isFinite(b.value));
    const max = Math.max(0, ...finite.map((b) => b.value));
    for (const bar of panel.bars) {
      const length =
        max > 0 && Number.isFinite(bar.value) ? Math.max(1, (bar.value / max) * BAR_AREA) : 0;
      const fill = bar.highlight ? '#d9480f' : '#4c6ef5';
      parts.push(
        `<text x="${LABEL_WIDTH - 8}" y="${y + 15}" font-size="12" text-anchor="end">${escapeXml(bar.label)}</text>`,
        `<rect x="${LABEL_WIDTH}" y="${y}" width="${length.toFixed(1)}" height="${BAR_HEIGHT}" fill="${fill}"/>`,
        `<text x="${(LABEL_WIDTH + length + 6).toFixed(1)}" y="${y + 15}" font-size="12">${Number.isFinite(bar.value) ? num(bar.value) : 'n/a'}</text>`,
      );
      y += BAR_HEIGHT + GAP;
    }
    y += PANEL_GAP;
  }
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${y}" viewBox="0 0 ${WIDTH} ${y}" font-family="sans-serif">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    ...parts,
    '</svg>',
    '',
  ].join('\n');
}

/** Writes the chart to `file`: the SVG itself, or for a `.html` name a page that shows it. */
export function writeChart(file: string, title: string, panels: readonly Panel[]): void {
  const svg = barChart(title, panels);
  const page = `<!doctype html>\n<html lang="en"><meta charset="utf-8"><title>${escapeXml(title)}</title>\n<body>\n${svg}</body></html>\n`;
  writeFileSync(file, /\.html?$/i.test(file) ? page : svg);
}

/** Chart panels for results of one or more servers: each scenario's headline figure, plus p99 latency. */
export function panelsFor(
  results: readonly RunResult[],
  highlight: (r: RunResult) => boolean = () => false,
): Panel[] {
  const panels: Panel[] = [];
  for (const scenario of ['pingpong', 'connect', 'hold'] as const) {
    const of = results.filter((r) => r.scenario === scenario);
    if (of.length === 0) continue;
    const { label, higherIsBetter } = headline(of[0]);
    panels.push({
      title: `${scenario}: ${label} (${higherIsBetter ? 'higher' : 'lower'} is better)`,
      bars: of.map((r) => ({ label: r.server, value: headline(r).value, highlight: highlight(r) })),
    });
    if (scenario === 'pingpong')
      panels.push({
        title: 'pingpong: p99 echo latency, ms (lower is better)',
        bars: of.map((r) => ({ label: r.server, value: r.latencyMs.p99, highlight: highlight(r) })),
      });
  }
  const backends = results[0]?.backends ?? [];
  if (backends.length > 0) panels.push(spreadPanel(backends));
  return panels;
}

/** How the connections spread over the backends (of the first result: the run, or the merge). */
function spreadPanel(backends: readonly BackendResult[]): Panel {
  const shares = sharesOf(backends.map((b) => b.connections));
  return {
    title:
      'connections per backend, share of all (orange: named another client than the generator)',
    bars: backends.map((b, i) => ({
      label: `${b.backend === UNNAMED ? '(no greeting)' : backendParts(b.backend).host} ${shares[i]}`,
      value: b.connections,
      highlight: b.mismatched > 0,
    })),
  };
}
