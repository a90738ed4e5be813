/**
 * `npm run bench`: runs every suite (or those named on the command line) and prints one table of
 * the ratios the issues ask for, with the backend they ran on. `--json` prints the rows as JSON.
 */
import { initBackend } from '../src/core/backend.js';
import { renderTable, fmt } from '../src/core/format.js';
import { suites } from './suites.js';
import type { BenchRow } from './suite.js';

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const json = args.includes('--json');
  const only = args.filter((a) => !a.startsWith('--'));
  const backendArg = args.find((a) => a.startsWith('--backend='))?.split('=')[1];
  const info = await initBackend((backendArg as 'auto' | undefined) ?? 'auto');
  const selected = only.length ? suites.filter((s) => only.includes(s.name)) : suites;
  const rows: (BenchRow & { suite: string })[] = [];
  for (const suite of selected) {
    process.stderr.write(`bench: ${suite.name} ...\n`);
    for (const row of await suite.run()) rows.push({ suite: suite.name, ...row });
  }
  if (json) {
    process.stdout.write(JSON.stringify({ backend: info.backend, rows }, null, 2) + '\n');
    return;
  }
  const table = [['suite', 'figure', 'value', 'target', 'ok']];
  for (const r of rows) {
    table.push([r.suite, r.figure, `${fmt(r.value, 3)} ${r.unit}`, r.target ?? '', r.pass === undefined ? '' : r.pass ? 'yes' : 'NO']);
  }
  process.stdout.write(`memaudit benchmarks — backend: ${info.backend}, node ${process.versions.node}\n`);
  process.stdout.write(rows.length ? renderTable(table) : 'no benchmark suites registered\n');
}

main().catch((e: unknown) => {
  process.stderr.write(`bench: ${(e as Error).stack ?? e}\n`);
  process.exitCode = 1;
});
