/**
 * `memaudit synth notes|records`: seeded synthetic clinical data for demos and tests (nothing
 * real). The generators (faker) are imported by the handler, not when the flags are defined.
 */
import type { Argv, CommandModule } from 'yargs';
import { numberFlag, rules } from '../core/flags.js';
import { runCommand, type GlobalArgs } from './context.js';
import { lastValue } from './canary.js';
import { emit } from './output.js';

type SynthKind = 'notes' | 'records';

interface SynthArgs extends GlobalArgs {
  count: number;
  out: string;
}

function synthOptions<T>(y: Argv<T>) {
  return y
    .option('count', { type: 'string', demandOption: true, describe: 'How many records', coerce: numberFlag('count') })
    .option('out', { type: 'string', coerce: lastValue, demandOption: true, describe: 'File to write' }) as unknown as Argv<SynthArgs>;
}

function synthCommand(kind: SynthKind, describe: string): CommandModule<GlobalArgs, SynthArgs> {
  return {
    command: kind,
    describe,
    builder: (y) => synthOptions(y),
    handler: (args) =>
      runCommand(`synth ${kind}`, async () => {
        const [synth, { rngFromSeed }] = await Promise.all([import('../data/synth/index.js'), import('../core/rng.js')]);
        const write = kind === 'notes' ? synth.writeSyntheticNotes : synth.writeSyntheticRecords;
        const rng = rngFromSeed(args.seed);
        await write(args.out, args.count, rng);
        const result = { out: args.out, kind, count: args.count, seed: rng.seed };
        emit(args, result, () => `${args.count} synthetic ${kind} written to ${args.out} (seed ${rng.seed})`);
      }),
  };
}

export const synthCommandGroup: CommandModule<GlobalArgs, GlobalArgs> = {
  command: 'synth <command>',
  describe: 'Write seeded synthetic clinical data: notes (JSONL) or patient records (CSV)',
  builder: (y) =>
    y
      .command(synthCommand('notes', 'Synthetic visit notes as JSONL {"id","text"} with fake names, dates, MRNs, addresses'))
      .command(synthCommand('records', 'Synthetic patient records as CSV with a learnable label (columns match the patient-record pack)'))
      .demandCommand(1, 'Name a subcommand: notes or records') as unknown as Argv<GlobalArgs>,
  handler: () => undefined,
};
