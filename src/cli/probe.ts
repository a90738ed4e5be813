/**
 * `memaudit probe <name>`: runs one registered probe (probes/registry.ts) against a target and a
 * manifest, writes its JSON result to --out and prints a short table (or the result with --json).
 * Each probe's own flags come from its option specs (probes/specs.ts), so a new probe needs no
 * change here. The probes themselves (targets, TensorFlow.js) are imported by the handler only.
 */
import type { Argv, CommandModule } from 'yargs';
import { resolve } from 'node:path';
import { UsageError } from '../core/errors.js';
import { numberFlag } from '../core/flags.js';
import type { ProbeOptionSpec } from '../../probes/registry.js';
import { probeSpecs, type ProbeSpec } from '../../probes/specs.js';
import { targetOptions, openTargetOptionsFromArgs, type TargetArgs } from '../targets/options.js';
import { runCommand, progressFor, type GlobalArgs } from './context.js';
import { emit } from './output.js';
import { auditLogOptions, recordProbeRun, type AuditLogArgs } from './audit-log.js';
import { applyQueueArgs, queueOptions, type QueueArgs } from './queue-options.js';

interface ProbeArgs extends GlobalArgs, TargetArgs, AuditLogArgs, QueueArgs {
  manifest: string;
  out: string;
  [key: string]: unknown;
}

function kebab(name: string): string {
  return name.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());
}

function addProbeOption<T>(y: Argv<T>, spec: ProbeOptionSpec): Argv<T> {
  const flag = kebab(spec.name);
  const shown = spec.default === undefined ? '' : ` [default: ${spec.default}]`;
  if (spec.type === 'number') {
    // Parsed as a string and checked by its rule, so "--beam-width abc" is one line and exit 2.
    return y.option(flag, { type: 'string', coerce: numberFlag(flag, spec.rule ?? {}), describe: spec.describe + shown });
  }
  if (spec.type === 'boolean') return y.option(flag, { type: 'boolean', describe: spec.describe + shown });
  return y.option(flag, { type: 'string', ...(spec.choices ? { choices: spec.choices } : {}), describe: spec.describe + shown });
}

/** For an unknown flag of `memaudit probe <name>`: the probe's own options, so a misspelling shows what was meant. */
export function probeOptionsHint(argv: readonly string[], message: string): string {
  const spec = argv[0] === 'probe' ? probeSpecs.find((s) => s.name === argv[1]) : undefined;
  if (!spec || !/^Unknown argument/.test(message)) return '';
  return `; probe ${spec.name} options: ${spec.options.map((o) => '--' + kebab(o.name)).join(', ')}`;
}

function probeSubcommand(spec: ProbeSpec): CommandModule<GlobalArgs, ProbeArgs> {
  return {
    command: spec.name,
    describe: spec.describe,
    builder: (y) => {
      let b = queueOptions(auditLogOptions(targetOptions(y)))
        .option('manifest', { type: 'string', demandOption: true, describe: 'Insertion manifest written by `canary insert`' })
        .option('out', { type: 'string', demandOption: true, describe: 'Where to write the JSON result' });
      for (const option of spec.options) b = addProbeOption(b, option);
      return b as unknown as Argv<ProbeArgs>;
    },
    handler: (args) =>
      runCommand(`probe ${spec.name}`, async () => {
        const raw: Record<string, unknown> = {};
        for (const option of spec.options) {
          raw[option.name] = args[option.name];
          // A file option naming the result file would be overwritten by it (or overwrite it).
          if (option.type === 'string' && typeof args[option.name] === 'string' && resolve(args[option.name] as string) === resolve(args.out)) {
            throw new UsageError(`--${kebab(option.name)} and --out name the same file (${args.out})`);
          }
        }
        await applyQueueArgs(args);
        const [{ findProbe }, { openProbeSession, probeSummaryText, runProbe, writeProbeResult }] = await Promise.all([
          import('../../probes/registry.js'),
          import('../../probes/common.js'),
        ]);
        const probe = findProbe(spec.name);
        if (!probe) throw new Error(`probe ${spec.name} has a spec in probes/specs.ts but is not registered in probes/registry.ts`);
        const session = await openProbeSession({
          target: args.target,
          targetOptions: openTargetOptionsFromArgs(args),
          manifestPath: args.manifest,
          seed: args.seed,
          backend: args.backend,
          progress: progressFor(args),
        });
        try {
          const result = await runProbe(probe, session.contextFor(probe, raw));
          session.progress.done();
          writeProbeResult(args.out, probe, result);
          await recordProbeRun(args, probe.name, result, args.out, probe.exitCode?.(result));
          emit(args, result, () => probeSummaryText(probe, result) + `result written to ${args.out}\n`);
          return probe.exitCode?.(result);
        } finally {
          session.progress.done();
          await session.close();
        }
      }),
  };
}

export const probeCommand: CommandModule<GlobalArgs, GlobalArgs> = {
  command: 'probe',
  describe: `Run one probe against a target: ${probeSpecs.map((p) => p.name).join(', ') || '(none registered)'}`,
  builder: (y) => {
    let b = y;
    for (const spec of probeSpecs) b = b.command(probeSubcommand(spec) as unknown as CommandModule<GlobalArgs, GlobalArgs>);
    return b.demandCommand(1, `Name a probe: ${probeSpecs.map((p) => p.name).join(', ')}`);
  },
  handler: () => {},
};
