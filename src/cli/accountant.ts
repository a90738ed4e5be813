/**
 * `memaudit accountant epsilon|noise`: the privacy accountants from the command line. Thin: parse
 * flags, call src/accounting, print (--json shape: docs/FORMATS.md). The accountants
 * are imported by the handlers, so defining the flags (every other command, --help) stays cheap.
 */
import type { Argv, CommandModule } from 'yargs';
import { accountantNames, conversions, type AccountantName, type Conversion, type Segment } from '../accounting/types.js';
import { samplingRateFor, stepsFor } from '../accounting/steps.js';
import { UsageError } from '../core/errors.js';
import { fmt } from '../core/format.js';
import { flagRule, numberFlag, numberListFlag, parseNumber, rules } from '../core/flags.js';
import { runCommand, type GlobalArgs } from './context.js';
import { emit } from './output.js';

interface ScheduleArgs extends GlobalArgs {
  samplingRate?: number;
  steps?: number;
  datasetSize?: number;
  batchSize?: number;
  epochs?: number;
  delta?: number;
  accountant: AccountantName;
}

interface EpsilonArgs extends ScheduleArgs {
  noiseMultiplier?: number;
  conversion: Conversion;
  segment?: Segment[];
  orders?: number[];
}

interface NoiseArgs extends ScheduleArgs {
  targetEpsilon?: number;
}

const SCHEDULE_HELP = 'Give either --sampling-rate Q --steps N, or --dataset-size N --batch-size B --epochs E (then q = B/N, steps = ceil(E*N/B)).';

function scheduleOptions<T>(y: Argv<T>) {
  return y
    .option('sampling-rate', { type: 'string', describe: 'Poisson sampling rate q in (0, 1]', coerce: numberFlag('sampling-rate', rules.rate) })
    .option('steps', { type: 'string', describe: 'Number of training steps (integer)', coerce: numberFlag('steps') })
    .option('dataset-size', { type: 'string', describe: 'Training set size N (with --batch-size, --epochs)', coerce: numberFlag('dataset-size') })
    .option('batch-size', { type: 'string', describe: 'Expected batch size B (q = B/N)', coerce: numberFlag('batch-size') })
    .option('epochs', { type: 'string', describe: 'Epochs E (steps = ceil(E*N/B))', coerce: numberFlag('epochs') })
    .option('delta', { type: 'string', describe: 'Target delta in (0, 1)', coerce: numberFlag('delta', rules.openUnit) })
    .option('accountant', { choices: accountantNames, default: 'rdp' as AccountantName, describe: 'rdp (Renyi DP) or pld (privacy loss distribution, tighter)' });
}

/** (q, steps) from either flag family; naming the conflict or the missing flag otherwise. */
function resolveSchedule(a: ScheduleArgs): { samplingRate: number; steps: number } {
  const direct = a.samplingRate !== undefined || a.steps !== undefined;
  const derived = a.datasetSize !== undefined || a.batchSize !== undefined || a.epochs !== undefined;
  if (direct && derived) throw new UsageError('give --sampling-rate/--steps or --dataset-size/--batch-size/--epochs, not both');
  if (derived) {
    if (a.datasetSize === undefined || a.batchSize === undefined || a.epochs === undefined) {
      throw new UsageError('--dataset-size, --batch-size and --epochs go together: all three are needed');
    }
    return { samplingRate: samplingRateFor(a.datasetSize, a.batchSize), steps: stepsFor(a.datasetSize, a.batchSize, a.epochs) };
  }
  if (a.samplingRate === undefined) throw new UsageError('missing --sampling-rate (or --dataset-size, --batch-size, --epochs)');
  if (a.steps === undefined) throw new UsageError('missing --steps (or --dataset-size, --batch-size, --epochs)');
  return { samplingRate: a.samplingRate, steps: a.steps };
}

function requireDelta(a: ScheduleArgs): number {
  if (a.delta === undefined) throw new UsageError('missing --delta');
  return a.delta;
}

/** `--segment Q,S,N` (repeatable). */
function parseSegments(raw: unknown): Segment[] {
  const items = (Array.isArray(raw) ? raw : [raw]).map(String);
  return items.map((text) => {
    const parts = text.split(',').map((s) => s.trim());
    if (parts.length !== 3) throw new UsageError(`--segment must be Q,S,N (sampling rate, noise multiplier, steps), got "${text}"`);
    return {
      samplingRate: parseNumber('--segment sampling rate', parts[0], rules.rate),
      noiseMultiplier: parseNumber('--segment noise multiplier', parts[1], flagRule('noise-multiplier')),
      steps: parseNumber('--segment steps', parts[2], flagRule('steps')),
    };
  });
}

function printWarnings(args: GlobalArgs, warnings: string[] | undefined): void {
  if (args.quiet) return;
  for (const w of warnings ?? []) process.stderr.write(`memaudit accountant: warning: ${w}\n`);
}

const epsilonCommand: CommandModule<GlobalArgs, EpsilonArgs> = {
  command: 'epsilon',
  describe: 'Epsilon spent by DP-SGD (Poisson-subsampled Gaussian) at a given delta',
  builder: (y) =>
    scheduleOptions(y)
      .option('noise-multiplier', { type: 'string', describe: 'Noise multiplier sigma (> 0)', coerce: numberFlag('noise-multiplier') })
      .option('conversion', { choices: conversions, default: 'improved' as Conversion, describe: 'RDP to (eps, delta): improved (Balle et al. 2020) or classic (Mironov 2017, older published numbers)' })
      .option('segment', { type: 'string', array: true, describe: 'Q,S,N: N steps at sampling rate Q and noise S; repeat for heterogeneous training (replaces --sampling-rate, --noise-multiplier, --steps)', coerce: parseSegments })
      .option('orders', { type: 'string', describe: 'Comma-separated RDP orders (> 1) replacing the default grid', coerce: numberListFlag('orders', { min: 1, minExclusive: true }) })
      .epilogue(SCHEDULE_HELP) as unknown as Argv<EpsilonArgs>,
  handler: (args) =>
    runCommand('accountant epsilon', async () => {
      let segments: Segment[];
      if (args.segment) {
        if (args.samplingRate !== undefined || args.noiseMultiplier !== undefined || args.steps !== undefined || args.datasetSize !== undefined || args.batchSize !== undefined || args.epochs !== undefined) {
          throw new UsageError('--segment replaces --sampling-rate/--noise-multiplier/--steps (and --dataset-size/--batch-size/--epochs): give one form');
        }
        segments = args.segment;
      } else {
        const { samplingRate, steps } = resolveSchedule(args);
        if (args.noiseMultiplier === undefined) throw new UsageError('missing --noise-multiplier');
        segments = [{ samplingRate, noiseMultiplier: args.noiseMultiplier, steps }];
      }
      const delta = requireDelta(args);
      if (args.accountant === 'pld' && args.orders) throw new UsageError('--orders applies to --accountant rdp only');
      const { computeEpsilon } = await import('../accounting/epsilon.js');
      const result = computeEpsilon(segments, delta, { accountant: args.accountant, conversion: args.conversion, orders: args.orders });
      printWarnings(args, result.warnings);
      const json: Record<string, unknown> = { epsilon: result.epsilon, delta: result.delta, accountant: result.accountant };
      if (result.accountant === 'rdp') json.optimalOrder = result.optimalOrder;
      emit(args, json, () => {
        const how = result.accountant === 'rdp' ? `RDP, ${args.conversion} conversion, optimal order ${result.optimalOrder}` : 'PLD';
        const steps = segments.reduce((n, s) => n + s.steps, 0);
        return `epsilon = ${fmt(result.epsilon, 6)} at delta = ${result.delta} (${how}; ${steps} steps in ${segments.length} segment${segments.length > 1 ? 's' : ''})`;
      });
    }),
};

const noiseCommand: CommandModule<GlobalArgs, NoiseArgs> = {
  command: 'noise',
  describe: 'Smallest noise multiplier whose epsilon is at most the target',
  builder: (y) =>
    scheduleOptions(y)
      .option('target-epsilon', { type: 'string', describe: 'Privacy budget epsilon (> 0)', coerce: numberFlag('target-epsilon') })
      .epilogue(SCHEDULE_HELP) as unknown as Argv<NoiseArgs>,
  handler: (args) =>
    runCommand('accountant noise', async () => {
      const { samplingRate, steps } = resolveSchedule(args);
      const delta = requireDelta(args);
      if (args.targetEpsilon === undefined) throw new UsageError('missing --target-epsilon');
      const { calibrateNoise } = await import('../accounting/calibrate.js');
      const result = calibrateNoise({ samplingRate, steps, delta, targetEpsilon: args.targetEpsilon, accountant: args.accountant });
      const json = {
        noiseMultiplier: result.noiseMultiplier,
        epsilon: result.epsilon,
        delta,
        accountant: args.accountant,
        targetEpsilon: args.targetEpsilon,
        samplingRate,
        steps,
      };
      emit(args, json, () =>
        `noise multiplier = ${fmt(result.noiseMultiplier, 6)} gives epsilon = ${fmt(result.epsilon, 6)} <= ${args.targetEpsilon} at delta = ${delta} ` +
        `(${args.accountant.toUpperCase()}; q = ${fmt(samplingRate, 6)}, ${steps} steps)`,
      );
    }),
};

export const accountantCommand: CommandModule<GlobalArgs, GlobalArgs> = {
  command: 'accountant <command>',
  describe: 'Privacy accounting for DP-SGD: epsilon for a noise level, or noise for a budget',
  builder: (y) => y.command(epsilonCommand).command(noiseCommand).demandCommand(1, 'Name a subcommand: epsilon or noise') as unknown as Argv<GlobalArgs>,
  handler: () => undefined,
};
