/**
 * `memaudit canary generate|insert`: draw canaries from a pack, and plant them in a dataset with
 * a manifest. Thin: parse flags, call src/canary, print. src/canary (faker, csv-parse, ajv) is
 * imported by the handlers, so defining the flags stays cheap for every other command.
 */
import type { Argv, CommandModule } from 'yargs';
import type { Manifest } from '../canary/index.js';
import { fmt, renderTable } from '../core/format.js';
import { numberFlag, numberListFlag, rules } from '../core/flags.js';
import { UsageError } from '../core/errors.js';
import { dataFormats, type DataFormat } from '../data/format.js';
import { progressFor, runCommand, type GlobalArgs } from './context.js';
import { emit } from './output.js';

/** A repeated string flag keeps its last value (as the number flags do), never an array. */
export const lastValue = (v: unknown): string => String(Array.isArray(v) ? v[v.length - 1] : v);

interface GenerateArgs extends GlobalArgs {
  pack: string;
  count: number;
  out: string;
}

interface InsertArgs extends GlobalArgs {
  data: string;
  canaries: string;
  repetitions: number[];
  references: number;
  mode: 'fixed' | 'bernoulli';
  out: string;
  manifest: string;
  format?: DataFormat;
  textField?: string;
  labelColumn?: string;
  holdout: number;
  holdoutOut?: string;
  signKey?: string;
}

const generateCommand: CommandModule<GlobalArgs, GenerateArgs> = {
  command: 'generate',
  describe: 'Draw canaries with distinct random secrets from a pack (built-in name or pack file)',
  builder: (y) =>
    y
      .option('pack', { type: 'string', coerce: lastValue, demandOption: true, describe: 'Built-in pack name (ssn, mrn, us-phone, dob, name-diagnosis, email, street-address, pin, patient-record) or a pack file' })
      .option('count', { type: 'string', demandOption: true, describe: 'How many canaries (inserted ones and references)', coerce: numberFlag('count') })
      .option('out', { type: 'string', coerce: lastValue, demandOption: true, describe: 'Canary set file to write (JSON)' }) as unknown as Argv<GenerateArgs>,
  handler: (args) =>
    runCommand('canary generate', async () => {
      const [{ generateCanaries, loadPack, writeCanarySet }, { rngFromSeed }] = await Promise.all([import('../canary/index.js'), import('../core/rng.js')]);
      const pack = loadPack(args.pack);
      const set = generateCanaries(pack, { count: args.count, rng: rngFromSeed(args.seed) });
      writeCanarySet(args.out, set);
      const result = { out: args.out, pack: set.pack, kind: set.kind, count: set.canaries.length, spaceSize: set.spaceSize, spaceSizeLog2: set.spaceSizeLog2, seed: set.seed };
      emit(args, result, () => `${result.count} ${set.pack} canaries (secret space 2^${fmt(set.spaceSizeLog2)} = ${set.spaceSize}) written to ${args.out}`);
    }),
};

export function insertSummary(m: Manifest, manifestPath: string) {
  const groups = new Map<number, number>();
  for (const c of m.canaries) if (c.role === 'inserted') groups.set(c.repetitions, (groups.get(c.repetitions) ?? 0) + 1);
  return {
    out: m.output.path,
    manifest: manifestPath,
    mode: m.mode,
    inputRecords: m.input.records,
    outputRecords: m.output.records,
    inserted: m.canaries.filter((c) => c.role === 'inserted').length,
    references: m.canaries.filter((c) => c.role === 'reference').length,
    copies: m.output.records - m.input.records + (m.holdout?.records ?? 0),
    byRepetitions: [...groups].sort((a, b) => a[0] - b[0]).map(([repetitions, count]) => ({ repetitions, count })),
    inputSha256: m.input.sha256,
    outputSha256: m.output.sha256,
    ...(m.holdout ? { holdout: m.holdout.path, holdoutRecords: m.holdout.records, holdoutSha256: m.holdout.sha256 } : {}),
  };
}

const insertCommand: CommandModule<GlobalArgs, InsertArgs> = {
  command: 'insert',
  describe: 'Plant canaries in a dataset (JSONL, CSV or text), streaming, and write the manifest',
  builder: (y) =>
    y
      .option('data', { type: 'string', coerce: lastValue, demandOption: true, describe: 'Input dataset (.jsonl, .csv or .txt; never modified)' })
      .option('canaries', { type: 'string', coerce: lastValue, demandOption: true, describe: 'Canary set from `canary generate`' })
      .option('repetitions', {
        type: 'string',
        demandOption: true,
        describe: 'Copies per inserted canary, e.g. 1,4,16: canaries are spread evenly over these counts',
        coerce: numberListFlag('repetitions'),
      })
      .option('references', { type: 'string', default: '0', describe: 'Canaries kept out of the data as references (--mode fixed)', coerce: numberFlag('references') })
      .option('mode', {
        choices: ['fixed', 'bernoulli'] as const,
        default: 'fixed' as const,
        describe: 'fixed: --references K are never inserted; bernoulli: each canary inserted with probability 1/2 (one-run DP audit)',
      })
      .option('out', { type: 'string', coerce: lastValue, demandOption: true, describe: 'Output dataset (same format as --data)' })
      .option('manifest', { type: 'string', coerce: lastValue, demandOption: true, describe: 'Manifest to write (JSON): digests, counts, seed, every canary with its role' })
      .option('format', { choices: dataFormats, describe: 'Dataset format (default: from the file extension)' })
      .option('text-field', { type: 'string', coerce: lastValue, describe: 'JSONL: field holding the text (default "text"); CSV with a text pack: column that gets the canary text' })
      .option('label-column', { type: 'string', coerce: lastValue, describe: 'CSV with a table-row pack: the label column (default: the pack\'s)' })
      .option('holdout', {
        type: 'string',
        default: '0',
        describe: 'Real records withheld from --out (uniformly at random, seeded) into --holdout-out: the non-members of membership tests',
        coerce: numberFlag('holdout', rules.nonNegativeInt),
      })
      .option('holdout-out', { type: 'string', coerce: lastValue, describe: 'Holdout file (same format as --data, mode 0600) [default: beside --out, e.g. train.holdout.jsonl]' })
      .option('sign-key', { type: 'string', coerce: lastValue, describe: 'Private key to sign the manifest: MANIFEST.dsse.json beside it, checked by `audit --trust-key` [default: $MEMAUDIT_SIGNING_KEY]' }) as unknown as Argv<InsertArgs>,
  handler: (args) =>
    runCommand('canary insert', async () => {
      const [{ insertCanaries, manifestEnvelopePath, readCanarySet }, { rngFromSeed }, { loadSigningKey }] = await Promise.all([
        import('../canary/index.js'),
        import('../core/rng.js'),
        import('../attest/keys.js'),
      ]);
      if (args.holdoutOut !== undefined && !args.holdout) throw new UsageError('--holdout-out needs --holdout K (the number of records to withhold)');
      const canaries = readCanarySet(args.canaries);
      const signingKey = loadSigningKey(args.signKey);
      if (signingKey?.warning) process.stderr.write(`memaudit canary insert: warning: ${signingKey.warning}\n`);
      const manifest = await insertCanaries({
        data: args.data,
        format: args.format,
        textField: args.textField,
        labelColumn: args.labelColumn,
        canaries,
        mode: args.mode,
        repetitions: args.repetitions,
        references: args.references,
        out: args.out,
        manifest: args.manifest,
        holdout: args.holdout,
        holdoutOut: args.holdoutOut,
        rng: rngFromSeed(args.seed),
        progress: progressFor(args),
        signingKey,
      });
      const summary = { ...insertSummary(manifest, args.manifest), signature: signingKey ? manifestEnvelopePath(args.manifest) : null };
      emit(args, summary, () => {
        const rows: (string | number)[][] = [['repetitions', 'canaries']];
        for (const g of summary.byRepetitions) rows.push([g.repetitions, g.count]);
        rows.push(['reference (0)', summary.references]);
        return (
          (summary.holdout
            ? `${summary.inputRecords} records - ${summary.holdoutRecords} held out + ${summary.copies} canary copies = ${summary.outputRecords} records in ${summary.out}\n` +
              `holdout: ${summary.holdoutRecords} records in ${summary.holdout}\n`
            : `${summary.inputRecords} records + ${summary.copies} canary copies = ${summary.outputRecords} records in ${summary.out}\n`) +
          renderTable(rows) +
          `manifest: ${args.manifest}${summary.signature ? ` (signed: ${summary.signature})` : ''}`
        );
      });
    }),
};

export const canaryCommand: CommandModule<GlobalArgs, GlobalArgs> = {
  command: 'canary <command>',
  describe: 'Generate canaries from a pack and insert them into a dataset',
  builder: (y) => y.command(generateCommand).command(insertCommand).demandCommand(1, 'Name a subcommand: generate or insert') as unknown as Argv<GlobalArgs>,
  handler: () => undefined,
};
