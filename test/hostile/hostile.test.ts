// Hostile clients against every surface, on both engines: the table in cases.ts, each row with
// its bound. Without HOSTILE, the rows that have a fast scale (the last uvu run of `npm test`);
// HOSTILE=heavy (`npm run test:hostile`) runs every row at its heavy scale. HOSTILE_MATCH=regexp
// picks rows by name.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { breaches } from './bounds.ts';
import { CASES } from './cases.ts';
import { figures, measure } from './measure.ts';
import { ENGINES, startTarget, stopTargets } from './target.ts';

const tier = process.env.HOSTILE === 'heavy' ? 'heavy' : 'fast';
const match = new RegExp(process.env.HOSTILE_MATCH ?? '');
const report: string[] = [];

test.after.each(stopTargets);

for (const row of CASES) {
  const scale = row.scale[tier];
  if (scale === undefined) continue;
  for (const engine of ENGINES) {
    const name = `${engine} · ${row.surface.name} × ${row.attack.name}`;
    if (!match.test(name)) continue;
    test(name, async () => {
      const target = await startTarget(engine, row.args);
      const measured = await measure(target, () =>
        row.attack.run(target, row.surface, scale, row.bound),
      );
      const line = `${name}: ${figures(measured)}`;
      report.push(line);
      const broken = breaches(measured, row.bound);
      assert.ok(broken.length === 0, `${broken.join('; ')}\n  (${line})`);
    });
  }
}

test.after(() => console.log(`\n${report.map((line) => `hostile: ${line}`).join('\n')}`));

test.run();
