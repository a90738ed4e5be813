/**
 * End to end on real text: Brown-corpus sentences through the engineer's flow of the README, run
 * with the built CLI as a user runs it, printing each step's wall time and each audit's verdict,
 * exit code and key figures. Not a CI test (minutes of training).
 *
 *   npx tsc -p tsconfig.json && node dist/bench/e2e-real-text.js [--sentences 2500] [--epsilon 0.9]
 *     [--dp-epochs 4] [--epochs 20] [--out DIR]
 *
 * keygen -> plan (sized for the DP guarantee) -> canary generate -> canary insert --holdout ->
 * train --dp --sign-key -> audit --trust-key (expected NOT_PHI, exit 0, for the covered counts) ->
 * train without DP until it memorizes -> audit (expected PHI, exit 1).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { brownSentences } from './corpus.js';

const cli = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'cli', 'main.js');

interface Step {
  what: string;
  code: number | null;
  seconds: number;
  stdout: string;
}

const steps: Step[] = [];

function run(what: string, args: string[], env: NodeJS.ProcessEnv): Promise<Step> {
  const started = performance.now();
  process.stderr.write(`-> memaudit ${args.join(' ')}\n`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const step = { what, code, seconds: (performance.now() - started) / 1000, stdout };
      steps.push(step);
      resolve(step);
    });
  });
}

/** A step that must succeed for the flow to go on. */
async function must(what: string, args: string[], env: NodeJS.ProcessEnv): Promise<Step> {
  const step = await run(what, args, env);
  if (step.code !== 0) throw new Error(`${what} exited ${step.code}`);
  return step;
}

interface ReportJson {
  verdict: { verdict: string; headline: string };
  results: {
    exposure?: { byRepetitions: { repetitions: number; meanExposureBits: number; maxExposureBits: number }[] };
    extraction?: { targeted: { extracted: number; attempted: number } };
    membership?: { attacks: { name: string; tprAtFpr: Record<string, number> }[]; members?: number; nonMembers?: number };
  };
}

function figures(runDir: string): string[] {
  const report = JSON.parse(readFileSync(join(runDir, 'report.json'), 'utf8')) as ReportJson;
  const { exposure, extraction, membership } = report.results;
  const best = membership?.attacks.reduce((a, b) => (b.tprAtFpr['0.001']! > a.tprAtFpr['0.001']! ? b : a));
  return [
    `  ${report.verdict.headline}`,
    ...(exposure?.byRepetitions ?? []).map((g) => `  exposure ${g.repetitions}x: mean ${g.meanExposureBits.toFixed(2)} bits, max ${g.maxExposureBits.toFixed(2)}`),
    ...(extraction ? [`  extracted: ${extraction.targeted.extracted} of ${extraction.targeted.attempted}`] : []),
    ...(best ? [`  best membership TPR at 0.1% FPR: ${best.tprAtFpr['0.001']!.toFixed(4)} (${best.name})`] : []),
  ];
}

function epsilonOf(modelDir: string): string {
  const privacy = JSON.parse(readFileSync(join(modelDir, 'privacy.json'), 'utf8')) as { dp: boolean; epsilon?: { rdp: number }; delta?: number };
  return privacy.dp ? `epsilon ${privacy.epsilon!.rdp.toFixed(3)}, delta ${privacy.delta}` : 'no DP';
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      sentences: { type: 'string', default: '2500' },
      epsilon: { type: 'string', default: '0.9' },
      delta: { type: 'string', default: '1e-5' },
      'dp-epochs': { type: 'string', default: '4' },
      epochs: { type: 'string', default: '20' },
      out: { type: 'string' },
    },
  });
  const out = values.out ?? mkdtempSync(join(tmpdir(), 'memaudit-e2e-real-'));
  mkdirSync(out, { recursive: true });
  const env = { MEMAUDIT_AUDIT_LOG: join(out, 'audit-log.jsonl') };
  const p = (name: string) => join(out, name);
  const data = p('brown.jsonl');
  writeFileSync(data, brownSentences(Number(values.sentences)).map((text) => JSON.stringify({ text })).join('\n') + '\n');
  process.stderr.write(`${values.sentences} Brown-corpus sentences in ${data}\n`);

  await must('keygen', ['attest', 'keygen', '--out', p('keys')], env);
  const plan = JSON.parse((await must('plan', ['plan', '--data', data, '--repetitions', '1,4', '--dp-epsilon', values.epsilon, '--dp-delta', values.delta, '--json'], env)).stdout) as {
    canaries: Record<string, number>;
    references: number;
    holdout: number;
    members: number;
  };
  const inserted = Object.values(plan.canaries).reduce((a, b) => a + b, 0);
  await must('canary generate', ['canary', 'generate', '--pack', 'mrn', '--count', String(inserted + plan.references), '--out', p('canaries.json')], env);
  const insert = ['canary', 'insert', '--data', data, '--canaries', p('canaries.json'), '--repetitions', '1,4', '--references', String(plan.references)];
  await must('canary insert', [...insert, '--holdout', String(plan.holdout), '--out', p('train.jsonl'), '--manifest', p('manifest.json')], env);

  const trainCommon = ['train', '--data', p('train.jsonl'), '--model', 'charlm', '--sign-key', p('keys/memaudit.key')];
  const dpArgs = ['--dp', '--target-epsilon', values.epsilon, '--delta', values.delta, '--clip-norm', '1', '--batch-size', '64', '--epochs', values['dp-epochs']];
  await must('train DP', [...trainCommon, ...dpArgs, '--out', p('model-dp')], env);
  const auditCommon = ['audit', '--manifest', p('manifest.json'), '--trust-key', p('keys/memaudit.pub'), '--sign-key', p('keys/memaudit.key'), '--purpose', 'e2e on Brown sentences'];
  const dp = await run('audit DP', [...auditCommon, '--target', p('model-dp'), '--out', p('runs/dp')], env);
  await must('train no DP', [...trainCommon, '--batch-size', '16', '--epochs', values.epochs, '--out', p('model-nodp')], env);
  const noDp = await run('audit no DP', [...auditCommon, '--target', p('model-nodp'), '--out', p('runs/nodp')], env);

  const lines = [
    `e2e on real text: ${values.sentences} Brown sentences; plan: ${Object.entries(plan.canaries).map(([r, n]) => `${n} at ${r}x`).join(', ')}, ${plan.references} references, holdout ${plan.holdout}, ${plan.members} members (${out})`,
    'wall times:',
    ...steps.map((s) => `  ${s.what.padEnd(16)} ${s.seconds.toFixed(1).padStart(7)} s  exit ${s.code}`),
    `DP model (${epsilonOf(p('model-dp'))}): exit ${dp.code}`,
    ...figures(p('runs/dp')),
    `no-DP model: exit ${noDp.code}`,
    ...figures(p('runs/nodp')),
  ];
  process.stdout.write(lines.join('\n') + '\n');
  const expected = dp.code === 0 && noDp.code === 1;
  if (!expected) process.stdout.write(`unexpected: DP exit ${dp.code} (expected 0), no-DP exit ${noDp.code} (expected 1)\n`);
  process.exitCode = expected ? 0 : 1;
}

main().catch((e: unknown) => {
  process.stderr.write(`e2e-real-text: ${(e as Error).message}\n`);
  process.exitCode = 2;
});
