/**
 * `memaudit probe <name>`: runs one registered probe (probes/registry.ts) against a target and a
 * manifest, writes its JSON result to --out and prints a short table (or the result with --json).
 * Each probe's own flags come from its option specs, so a new probe needs no change here.
 */
import type { Argv, CommandModule } from 'yargs';
import { resolve } from 'node:path';
import { UsageError } from '../core/errors.js';
import { probes } from '../../probes/registry.js';
import type { ProbeModule, ProbeOptionSpec } from '../../probes/registry.js';
import { openProbeSession, probeSummaryText, runProbe, writeProbeResult } from '../../probes/common.js';
import { targetOptions, openTargetOptionsFromArgs, type TargetArgs } from '../targets/index.js';
import { runCommand, progressFor, type GlobalArgs } from './context.js';
import { numberFlag } from './options.js';
import { emit } from './output.js';
import { auditLogOptions, recordProbeRun, type AuditLogArgs } from './audit-log.js';

interface ProbeArgs extends GlobalArgs, TargetArgs, AuditLogArgs {
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

function probeSubcommand(probe: ProbeModule): CommandModule<GlobalArgs, ProbeArgs> {
  return {
    command: probe.name,
    describe: probe.describe,
    builder: (y) => {
      let b = auditLogOptions(targetOptions(y))
        .option('manifest', { type: 'string', demandOption: true, describe: 'Insertion manifest written by `canary insert`' })
        .option('out', { type: 'string', demandOption: true, describe: 'Where to write the JSON result' });
      for (const spec of probe.options ?? []) b = addProbeOption(b, spec);
      return b as unknown as Argv<ProbeArgs>;
    },
    handler: (args) =>
      runCommand(`probe ${probe.name}`, async () => {
        const raw: Record<string, unknown> = {};
        for (const spec of probe.options ?? []) {
          raw[spec.name] = args[spec.name];
          // A file option naming the result file would be overwritten by it (or overwrite it).
          if (spec.type === 'string' && typeof args[spec.name] === 'string' && resolve(args[spec.name] as string) === resolve(args.out)) {
            throw new UsageError(`--${kebab(spec.name)} and --out name the same file (${args.out})`);
          }
        }
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
          emit(args, result, () => probeSummaryText(probe, result) + `result written to ${args.out}\n`);
          await recordProbeRun(args, probe.name, result, args.out, probe.exitCode?.(result));
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
  describe: `Run one probe against a target: ${probes.map((p) => p.name).join(', ') || '(none registered)'}`,
  builder: (y) => {
    let b = y;
    for (const probe of probes) b = b.command(probeSubcommand(probe) as unknown as CommandModule<GlobalArgs, GlobalArgs>);
    return b.demandCommand(1, `Name a probe: ${probes.map((p) => p.name).join(', ')}`);
  },
  handler: () => {},
};
