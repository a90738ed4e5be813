/** `memaudit demo`: the whole pipeline on synthetic data, and a side-by-side summary of two models. */
import type { Argv, CommandModule } from 'yargs';
import { join } from 'node:path';
import { fmt, renderTable } from '../core/format.js';
import { runCommand, progressFor, type GlobalArgs } from './context.js';
import { emit } from './output.js';
import type { DemoResult, DemoRun } from '../demo/run.js';


interface DemoArgs extends GlobalArgs {
  out: string;
  quick: boolean;
}

export const demoCommand: CommandModule<GlobalArgs, DemoArgs> = {
  command: 'demo',
  describe: 'Synthesize notes, plant canaries, train a charlm without and with DP-SGD, audit both, and compare',
  builder: (y) =>
    y
      .option('out', { type: 'string', default: join('reports', 'demo'), describe: 'Folder for the data, models, reports, attestations, key and audit log' })
      .option('quick', { type: 'boolean', default: false, describe: 'A smaller run (about a minute on 2 cores without tfjs-node); too small to clear the DP model' }) as unknown as Argv<DemoArgs>,
  handler: (args) =>
    runCommand('demo', async () => {
      const { runDemo } = await import('../demo/run.js');
      const result = await runDemo({ outDir: args.out, quick: args.quick, seed: args.seed, backend: args.backend, progress: progressFor(args) });
      emit(args, result, () => humanSummary(result));
    }),
};

function exposureCell(run: DemoRun, repetitions: number): string {
  const g = run.exposureByRepetitions.find((x) => x.repetitions === repetitions);
  return g ? `${fmt(g.meanExposureBits, 3)} (max ${fmt(g.maxExposureBits, 3)})` : '-';
}

/** Why the DP model could not clear, when it did not: which sizes or conditions a full audit needs (from `plan`). */
function clearingNote(result: DemoResult): string[] {
  const dp = result.runs.find((r) => r.name === 'dp');
  if (!dp || dp.verdict !== 'INCONCLUSIVE') return [];
  const plan = result.plan;
  const needs: string[] = [];
  if (result.holdout < plan.holdout) needs.push(`a holdout of ${plan.holdout} real records (this run withheld ${result.holdout}) and ${plan.members} members`);
  if (result.seededNoise) needs.push('DP noise from the CSPRNG (--seed makes it seeded, and a seeded guarantee cannot stand in under the default policy)');
  const sizes = Object.entries(plan.canaries).map(([r, n]) => `${n} canaries at ${r}x`).join(', ');
  return [
    `The DP model is not cleared${result.quick ? ' by this quick run' : ''}. Clearing it needs ${needs.length > 0 ? needs.join('; and ') : 'the sizes below'}.`,
    `  The full audit's sizes (${sizes}, ${plan.references} references, holdout ${plan.holdout}, ${plan.members} members) are what \`${result.planCommand}\` gives;`,
    '  run `npx memaudit demo` (without --quick or --seed) to see it clear.',
  ];
}

export function humanSummary(result: DemoResult): string {
  const runs = result.runs;
  const repetitions = [...new Set(runs.flatMap((r) => r.exposureByRepetitions.map((g) => g.repetitions)))].sort((a, b) => a - b);
  const header = ['', ...runs.map((r) => (r.name === 'dp' ? 'DP-SGD' : 'no DP'))];
  const rows: string[][] = [
    header,
    ['epsilon (delta)', ...runs.map((r) => (r.epsilon === null ? 'none (not private)' : `${fmt(r.epsilon, 3)} (${fmt(r.delta, 2)})`))],
    ['final training loss', ...runs.map((r) => fmt(r.finalLoss, 3))],
    ...repetitions.map((k) => [`exposure bits, ${k}x inserted`, ...runs.map((r) => exposureCell(r, k))]),
    ['exposure bits, references', ...runs.map((r) => (r.referenceExposureBits ? `${fmt(r.referenceExposureBits.mean, 3)} (max ${fmt(r.referenceExposureBits.max, 3)})` : '-'))],
    ['canaries extracted', ...runs.map((r) => (r.extracted ? `${r.extracted.extracted} of ${r.extracted.attempted}` : '-'))],
    ['membership TPR at 0.1% FPR', ...runs.map((r) => (r.membershipTprAt0001 ? `${fmt(r.membershipTprAt0001.tpr, 3)} (${r.membershipTprAt0001.attack})` : '-'))],
    [
      'empirical epsilon lower bound',
      ...runs.map((r) => (r.empiricalEpsilonLowerBound ? `${fmt(r.empiricalEpsilonLowerBound.value, 3)} (ceiling ${fmt(r.empiricalEpsilonLowerBound.ceiling, 3)})` : '-')),
    ],
    ['verdict', ...runs.map((r) => `${r.verdict} (exit ${r.exitCode})`)],
  ];
  const dpRun = runs.find((r) => r.name === 'dp');
  const lines = [
    `memaudit demo (${result.quick ? 'quick' : 'full'}, backend ${result.backend}, seed ${result.seed})`,
    renderTable(rows),
    ...runs.map((r) => `${r.name}: ${r.headline}`),
    ...clearingNote(result),
    'Why:',
    ...runs.map((r) => {
      const decisive = r.reasons.slice(0, 3).map((x) => `${x.probe} ${x.metric} ${fmt(x.value, 3)} vs ${fmt(x.threshold, 3)}`);
      return `  ${r.name}: ${r.verdict}${decisive.length ? ` - ${decisive.join('; ')}${r.reasons.length > 3 ? `; +${r.reasons.length - 3} more` : ''}` : ''}`;
    }),
    'A low empirical lower bound is not evidence of privacy: its ceiling is set by the number of canaries.',
    '',
    'Written:',
    ...runs.map((r) => `  ${r.name}: ${r.report} (+ .md, .html), ${r.attestation}`),
    `  audit log: ${result.auditLog}`,
    `  verify: npx memaudit attest verify --attestation ${runs[0]?.attestation ?? 'ATTESTATION'} --key ${result.publicKey} --model ${runs[0]?.modelDir ?? 'MODEL_DIR'}`,
    `  training provenance: npx memaudit attest verify --attestation ${join(dpRun?.modelDir ?? 'MODEL_DIR', 'provenance.dsse.json')} --key ${result.publicKey} --model ${dpRun?.modelDir ?? 'MODEL_DIR'}`,
  ];
  return lines.join('\n');
}
