/**
 * `memaudit plan [--policy P] (--data FILE | --dataset-size N) [--target-kind local|api]
 * [--scoring yes|no] [--repetitions 1,4] [--pack NAME]`: how many canaries, references, holdout
 * records and members an audit needs for a model that memorized nothing to clear (NOT_PHI) with
 * probability >= 0.95 under the policy, and the `canary generate` / `canary insert` commands that
 * plant them. Thin: parse flags, call src/policy/plan.ts, print. Exit 2 when the request cannot be met.
 */
import type { Argv, CommandModule } from 'yargs';
import { UsageError } from '../core/errors.js';
import { numberFlag, numberListFlag, rules } from '../core/flags.js';
import { renderTable } from '../core/format.js';
import { lastValue } from './canary.js';
import { runCommand, type GlobalArgs } from './context.js';
import { emit } from './output.js';
import type { Plan } from '../policy/plan.js';

interface PlanArgs extends GlobalArgs {
  policy?: string;
  data?: string;
  datasetSize?: number;
  targetKind: 'local' | 'api';
  scoring: 'yes' | 'no';
  repetitions?: number[];
  pack: string;
  dpEpsilon?: number;
  dpDelta?: number;
}

async function countRecords(path: string): Promise<number> {
  const { readRecords } = await import('../data/index.js');
  let records = 0;
  for await (const _record of readRecords(path)) records++;
  return records;
}

async function datasetSizeOf(args: PlanArgs): Promise<number> {
  if (args.data !== undefined && args.datasetSize !== undefined) throw new UsageError('give either --data FILE or --dataset-size N, not both');
  if (args.datasetSize !== undefined) return args.datasetSize;
  if (args.data !== undefined) return countRecords(args.data);
  throw new UsageError('give --data FILE (its records are counted) or --dataset-size N');
}

/** The planned DP guarantee: both flags or neither. */
function plannedDp(args: PlanArgs): { epsilon: number; delta: number } | undefined {
  if (args.dpEpsilon === undefined && args.dpDelta === undefined) return undefined;
  if (args.dpEpsilon === undefined || args.dpDelta === undefined) throw new UsageError('give --dp-epsilon E and --dp-delta D together (the DP guarantee the model will be trained with)');
  return { epsilon: args.dpEpsilon, delta: args.dpDelta };
}

function commandsFor(plan: Plan, args: PlanArgs, repetitions: number[]): string[] {
  const inserted = repetitions.reduce((sum, r) => sum + plan.canaries[String(r)]!, 0);
  const data = args.data ?? 'data.jsonl';
  const policy = args.policy ? ` --policy ${args.policy}` : '';
  return [
    `memaudit canary generate --pack ${args.pack} --count ${inserted + plan.references} --out canaries.json`,
    `memaudit canary insert --data ${data} --canaries canaries.json --repetitions ${repetitions.join(',')} --references ${plan.references} --holdout ${plan.holdout} --out train.jsonl --manifest manifest.json`,
    ...(plan.standIn
      ? [
          `memaudit train --data train.jsonl --model charlm --dp --target-epsilon ${plan.standIn.epsilon} --delta ${plan.standIn.delta} --out MODEL --sign-key keys/memaudit.key`,
          `memaudit audit --target MODEL --manifest manifest.json${policy} --trust-key keys/memaudit.pub --out RUN_DIR`,
        ]
      : [`memaudit audit --target MODEL --manifest manifest.json${policy} --out RUN_DIR`]),
  ];
}

function human(plan: Plan, commands: string[], datasetSize: number): string {
  const rows: (string | number)[][] = [['what', 'how many']];
  for (const [repetitions, count] of Object.entries(plan.canaries)) rows.push([`canaries inserted ${repetitions}x`, count]);
  rows.push(['reference canaries (never inserted)', plan.references]);
  rows.push(['holdout records (withheld: non-members)', plan.holdout]);
  rows.push(['member records (scored from the training data)', plan.members]);
  if (plan.standIn) {
    const s = plan.standIn;
    const covered = [s.membership ? 'membership' : null, ...s.repetitions.map((r) => `exposure ${r}x`)].filter((x) => x !== null);
    rows.push([`passes by theorem at (epsilon ${s.epsilon}, delta ${s.delta})-DP, if verified and signed`, covered.length > 0 ? covered.join(', ') : 'nothing']);
  }
  const given = plan.standIn ? ' (given the DP claim verifies)' : '';
  rows.push([`P(NOT_PHI) if the model memorized nothing${given}`, `>= ${plan.pNotPhiNull.toFixed(4)}`]);
  rows.push(['P(PHI) at the material effect (least detectable check)', plan.pPhiAtEffect.toFixed(4)]);
  return `${renderTable(rows)}dataset: ${datasetSize} records\n\n${commands.join('\n')}`;
}

export const planCommand: CommandModule<GlobalArgs, PlanArgs> = {
  command: 'plan',
  describe: 'Size an audit for a policy: canaries per repetition count, references, holdout and members, with the commands that plant them',
  builder: (y) =>
    y
      .option('policy', { type: 'string', coerce: lastValue, describe: 'Policy file (default: the built-in default policy)' })
      .option('data', { type: 'string', coerce: lastValue, describe: 'Training data before canaries (.jsonl, .csv or .txt): its records are counted' })
      .option('dataset-size', { type: 'string', describe: 'Records in the training data (instead of --data)', coerce: numberFlag('dataset-size', rules.positiveInt) })
      .option('target-kind', { choices: ['local', 'api'] as const, default: 'local' as const, describe: 'Where the trained model will be probed' })
      .option('scoring', { choices: ['yes', 'no'] as const, default: 'yes' as const, describe: 'Whether the target can score text (log-probabilities): exposure and membership need it' })
      .option('repetitions', { type: 'string', describe: "Repetition counts to plant and cover, e.g. 1,4 (default: the policy's coverage list, else 1,4)", coerce: numberListFlag('repetitions', rules.positiveInt) })
      .option('pack', { type: 'string', coerce: lastValue, default: 'mrn', describe: 'Canary pack (built-in name or file): sets the secret space' })
      .option('dp-epsilon', { type: 'string', describe: 'Epsilon the model will be trained with (DP-SGD, signed provenance): checks the guarantee implies pass by theorem', coerce: numberFlag('dp-epsilon', rules.positive) })
      .option('dp-delta', { type: 'string', describe: 'Delta of that guarantee (with --dp-epsilon)', coerce: numberFlag('dp-delta', rules.openUnit) }) as unknown as Argv<PlanArgs>,
  handler: (args) =>
    runCommand('plan', async () => {
      if (args.targetKind === 'api' && args.scoring === 'no') {
        throw new UsageError('an API target that cannot score text cannot run exposure or membership (both need log-probabilities), so no audit of it can reach NOT_PHI; use a target that returns prompt log-probabilities');
      }
      const [{ loadPolicy }, { planAudit, ImpossiblePlan }, { loadPack }, { defaultExposureOptions }] = await Promise.all([
        import('../policy/load.js'),
        import('../policy/plan.js'),
        import('../canary/index.js'),
        import('../../probes/exposure.js'),
      ]);
      const dp = plannedDp(args);
      const { policy } = loadPolicy(args.policy);
      const pack = loadPack(args.pack);
      const datasetSize = await datasetSizeOf(args);
      const coverage = policy.coverage.repetitions;
      const repetitions = [...new Set(args.repetitions ?? (coverage === 'inserted' ? [1, 4] : coverage))].sort((a, b) => a - b);
      const exposureMode = pack.space.size <= BigInt(defaultExposureOptions.maxExact) ? 'exact' : 'estimated';
      let plan: Plan;
      try {
        plan = planAudit({ policy, datasetSize, repetitions, spaceSizeLog2: pack.space.log2Size, exposureMode, dp });
      } catch (e) {
        if (e instanceof ImpossiblePlan) throw new UsageError(e.message);
        throw e;
      }
      const commands = commandsFor(plan, args, repetitions);
      emit(args, { ...plan, commands }, () => human(plan, commands, datasetSize));
    }),
};
