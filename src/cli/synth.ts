/** `memaudit synth notes|records`: seeded synthetic clinical data for demos and tests (nothing real). */
import type { Argv, CommandModule } from 'yargs';
import { rngFromSeed } from '../core/rng.js';
import { writeSyntheticNotes, writeSyntheticRecords } from '../data/synth/index.js';
import { runCommand, type GlobalArgs } from './context.js';
import { numberFlag, rules } from './options.js';
import { lastValue } from './canary.js';
import { emit } from './output.js';

interface SynthArgs extends GlobalArgs {
  count: number;
  out: string;
}

function synthOptions<T>(y: Argv<T>) {
  return y
    .option('count', { type: 'string', demandOption: true, describe: 'How many records', coerce: numberFlag('count', rules.positiveInt) })
    .option('out', { type: 'string', coerce: lastValue, demandOption: true, describe: 'File to write' }) as unknown as Argv<SynthArgs>;
}

function synthCommand(kind: 'notes' | 'records', describe: string, write: typeof writeSyntheticNotes): CommandModule<GlobalArgs, SynthArgs> {
  return {
    command: kind,
    describe,
    builder: (y) => synthOptions(y),
    handler: (args) =>
      runCommand(`synth ${kind}`, async () => {
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
      .command(synthCommand('notes', 'Synthetic visit notes as JSONL {"id","text"} with fake names, dates, MRNs, addresses', writeSyntheticNotes))
      .command(synthCommand('records', 'Synthetic patient records as CSV with a learnable label (columns match the patient-record pack)', writeSyntheticRecords))
      .demandCommand(1, 'Name a subcommand: notes or records') as unknown as Argv<GlobalArgs>,
  handler: () => undefined,
};
