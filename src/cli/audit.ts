/**
 * `memaudit audit --target T --manifest M [--policy P] --out RUN_DIR`: runs the probes the policy
 * requires, decides, and writes report.json/.md/.html and attestation.dsse.json (signed with
 * --sign-key or $MEMAUDIT_SIGNING_KEY, else unsigned and said so). Exit 0 NOT_PHI, 1 PHI,
 * 3 INCONCLUSIVE.
 */
import type { Argv, CommandModule } from 'yargs';
import type { ProbeName } from '../../probes/types.js';
import { loadPublicKey, loadSigningKey, signingKeyEnv } from '../attest/keys.js';
import { UsageError } from '../core/errors.js';
import { openTargetOptionsFromArgs, targetOptions, type TargetArgs } from '../targets/options.js';
import { auditLogOptions, auditLogPath, type AuditLogArgs } from './audit-log.js';
import { applyQueueArgs, queueOptions, type QueueArgs } from './queue-options.js';
import { progressFor, runCommand, type GlobalArgs } from './context.js';
import { emit } from './output.js';
import { lastValue } from './canary.js';
import { renderTable } from '../core/format.js';

interface AuditArgs extends GlobalArgs, TargetArgs, AuditLogArgs, QueueArgs {
  manifest: string;
  policy?: string;
  out: string;
  signKey?: string;
  probeOption?: string[];
  data?: string;
  holdout?: string;
  trustKey?: string[];
}

const probeNames: readonly ProbeName[] = ['exposure', 'extraction', 'membership', 'dp-audit'];

/** `--probe-option membership.shadows=4` (repeatable) to per-probe option maps (checked by each probe's specs). */
export function parseProbeOptions(items: string[] = []): Partial<Record<ProbeName, Record<string, unknown>>> {
  const out: Partial<Record<ProbeName, Record<string, unknown>>> = {};
  for (const item of items) {
    const m = /^([a-z-]+)\.([A-Za-z][A-Za-z0-9-]*)=(.*)$/.exec(item);
    if (!m || !probeNames.includes(m[1] as ProbeName)) {
      throw new UsageError(`--probe-option must look like PROBE.OPTION=VALUE with PROBE one of ${probeNames.join(', ')}, got "${item}"`);
    }
    const key = m[2]!.replace(/-([a-z])/g, (_s, c: string) => c.toUpperCase());
    const raw = m[3]!;
    (out[m[1] as ProbeName] ??= {})[key] = raw === 'true' ? true : raw === 'false' ? false : raw;
  }
  return out;
}

export const auditCommand: CommandModule<GlobalArgs, AuditArgs> = {
  command: 'audit',
  describe: 'Run the required probes, decide PHI / NOT_PHI / INCONCLUSIVE, write the report and the attestation',
  builder: (y) =>
    queueOptions(auditLogOptions(
      targetOptions(y)
        .option('manifest', { type: 'string', demandOption: true, describe: 'Insertion manifest written by `canary insert`' })
        .option('policy', { type: 'string', describe: 'Policy file [default: the documented default policy]' })
        .option('out', { type: 'string', demandOption: true, describe: 'Run directory for report.json, report.md, report.html, attestation.dsse.json' })
        .option('sign-key', { type: 'string', describe: `Private key to sign the attestation (PKCS#8 PEM) [default: $${signingKeyEnv}]` })
        .option('trust-key', {
          type: 'string',
          array: true,
          describe: 'Public key (SPKI PEM) trusted to sign the manifest (MANIFEST.dsse.json) and the training provenance (provenance.dsse.json) (repeatable; any one)',
        })
        .option('probe-option', { type: 'string', array: true, describe: 'A probe option, PROBE.OPTION=VALUE (repeatable), e.g. extraction.beam-width=8' })
        .option('data', {
          type: 'string',
          coerce: lastValue,
          describe: "Training data, if moved since canary insert: the manifest's roles are checked in it and membership samples its real records [default: the manifest's output, sha256 checked]",
        })
        .option('holdout', { type: 'string', describe: "Holdout file, if moved since canary insert (default: the manifest's holdout, sha256 checked)" }),
    )) as unknown as Argv<AuditArgs>,
  handler: (args) =>
    runCommand('audit', async () => {
      // The audit runner loads TensorFlow.js and every probe: only when an audit really runs.
      const [{ runAudit }, { summaryRows }, { verdictHeadline }] = await Promise.all([
        import('../report/run.js'),
        import('../report/assemble.js'),
        import('../report/document.js'),
      ]);
      const probeOptions = parseProbeOptions(args.probeOption);
      for (const key of ['data', 'holdout'] as const) if (args[key] !== undefined) (probeOptions.membership ??= {})[key] ??= args[key];
      await applyQueueArgs(args);
      const signingKey = loadSigningKey(args.signKey);
      if (signingKey?.warning) process.stderr.write(`memaudit audit: warning: ${signingKey.warning}\n`);
      const run = await runAudit({
        target: args.target,
        targetOptions: openTargetOptionsFromArgs(args),
        manifestPath: args.manifest,
        policyPath: args.policy,
        outDir: args.out,
        seed: args.seed,
        backend: args.backend,
        progress: progressFor(args),
        signingKey,
        auditLogPath: auditLogPath(args),
        purpose: args.purpose,
        probeOptions,
        trainingData: args.data,
        trustKeys: args.trustKey,
      });
      const v = run.verdict;
      emit(
        args,
        {
          verdict: v.verdict,
          reasons: v.reasons,
          report: run.reportPath,
          attestation: run.attestationPath,
          signed: run.signed,
          keyid: run.keyid,
          manifestIntegrity: run.report.manifestIntegrity,
          probes: run.probesRun,
          policy: v.policy,
          backend: run.report.backend,
          dpClaim: run.report.dpClaim ?? null,
        },
        () =>
          `${renderTable(summaryRows(run.report))}${verdictHeadline[v.verdict]}\n` +
          `report: ${run.reportPath} (+ report.md, report.html)\n` +
          `attestation: ${run.attestationPath} ${run.signed ? `(signed, keyid ${run.keyid!.slice(0, 16)}...)` : `(UNSIGNED: no --sign-key or $${signingKeyEnv})`}`,
      );
      if (!run.signed && args.json) process.stderr.write(`memaudit audit: the attestation is unsigned (no --sign-key or $${signingKeyEnv})\n`);
      return v.exitCode;
    }),
};
