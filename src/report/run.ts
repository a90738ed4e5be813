/**
 * One audit run: the probes the policy requires (through the shared probe session of
 * probes/common.ts), the verdict, then the audit log entry, the attestation that signs the log's
 * head including that entry, report.json/.md/.html and the attestation written together, and
 * the entry appended. Probe failures the verdict understands (a missing capability, not enough
 * evidence) become INCONCLUSIVE reasons; any other error stops the run with nothing written.
 */
import { existsSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { openProbeSession, runProbe } from '../../probes/common.js';
import { findProbe } from '../../probes/registry.js';
import type { ProbeName, ProbeResult } from '../../probes/types.js';
import { readPrivacyLedger } from '../accounting/privacyFile.js';
import { appendAuditLogAfter, auditLogHead, type AuditLogHead, type AuditLogRecord } from '../attest/audit-log.js';
import { attestationFileName, attestStatement } from '../attest/attestation.js';
import type { LoadedPrivateKey } from '../attest/keys.js';
import { privacyAuditStatement } from '../attest/predicate.js';
import type { BackendPreference } from '../core/backend.js';
import { CapabilityError, InconclusiveError } from '../core/errors.js';
import { sha256Hex } from '../core/hash.js';
import type { Progress } from '../core/progress.js';
import type { OpenTargetOptions } from '../targets/options.js';
import type { TargetDescriptor } from '../targets/target.js';
import { summarizeManifest, type LedgerEvidence, type ProbeFailure, type ProbeResults } from '../policy/evidence.js';
import { loadPolicy } from '../policy/load.js';
import type { Policy } from '../policy/types.js';
import type { Verdict } from '../policy/verdict.js';
import { buildReport, serializeReport } from './assemble.js';
import { renderHtml } from './html.js';
import { renderMarkdown } from './markdown.js';
import type { Report } from './types.js';
import { writeRunFiles } from './write.js';

export interface AuditRunOptions {
  target: string;
  targetOptions?: OpenTargetOptions;
  manifestPath: string;
  policyPath?: string;
  outDir: string;
  seed?: string;
  backend?: BackendPreference;
  progress?: Progress;
  signingKey: LoadedPrivateKey | null;
  /** Where to append the run's entry; null for no log (library use). */
  auditLogPath: string | null;
  purpose?: string;
  /** Options per probe (checked by each probe's option specs). */
  probeOptions?: Partial<Record<ProbeName, Record<string, unknown>>>;
}

export interface AuditRunResult {
  report: Report;
  verdict: Verdict;
  reportPath: string;
  attestationPath: string;
  signed: boolean;
  keyid: string | null;
  probesRun: ProbeName[];
}

/** The model's DP ledger: privacy.json of a local model directory; null when unknown (APIs, foreign models). */
export function ledgerFor(target: TargetDescriptor): LedgerEvidence | null {
  if (target.kind !== 'local') return null;
  const dir = existsSync(target.target) && statSync(target.target).isDirectory() ? target.target : null;
  const file = dir ? join(dir, 'privacy.json') : null;
  return file && existsSync(file) ? (readPrivacyLedger(file) as LedgerEvidence) : null;
}

/**
 * A probe's options for this audit: dp-audit bounds are computed at the policy's confidence
 * (1 - alpha), the level the verdict needs to call a DP claim refuted, unless the user set one.
 */
export function probeOptionsFor(name: ProbeName, policy: Policy, given: Record<string, unknown> = {}): Record<string, unknown> {
  if (name === 'dp-audit' && (given.confidence === undefined || given.confidence === null)) return { ...given, confidence: 1 - policy.alpha };
  return given;
}

/** Required probes, plus dp-audit when the model claims DP and the policy asks to audit claims. */
export function probesToRun(policy: Policy, ledger: LedgerEvidence | null): ProbeName[] {
  const names = [...policy.requiredProbes];
  if (ledger?.dp && policy.dp.auditWhenClaimed && !names.includes('dp-audit')) names.push('dp-audit');
  return names;
}

export async function runAudit(o: AuditRunOptions): Promise<AuditRunResult> {
  // Everything a user can get wrong is checked before the model loads or an API is called.
  const policy = loadPolicy(o.policyPath);
  // A log that cannot take an entry fails the run now, before any probe runs.
  if (o.auditLogPath) auditLogHead(o.auditLogPath);
  const session = await openProbeSession({
    target: o.target,
    targetOptions: o.targetOptions,
    manifestPath: o.manifestPath,
    seed: o.seed,
    backend: o.backend,
    progress: o.progress,
  });
  const startedAt = new Date().toISOString();
  const results: ProbeResults = {};
  const failures: ProbeFailure[] = [];
  const probesRun: ProbeName[] = [];
  let ledger: LedgerEvidence | null;
  try {
    ledger = ledgerFor(session.targetDescriptor);
    for (const name of probesToRun(policy.policy, ledger)) {
      const probe = findProbe(name);
      if (!probe) {
        failures.push({ probe: name, kind: 'inconclusive', message: `probe ${name} is not available in this memaudit build` });
        continue;
      }
      try {
        const result = await runProbe(probe, session.contextFor(probe, probeOptionsFor(name, policy.policy, o.probeOptions?.[name])));
        (results as Record<string, ProbeResult>)[name] = result;
        probesRun.push(name);
      } catch (e) {
        if (e instanceof CapabilityError) failures.push({ probe: name, kind: 'capability', capability: e.capability, message: e.message });
        else if (e instanceof InconclusiveError) failures.push({ probe: name, kind: 'inconclusive', message: e.message });
        else throw e;
      }
    }
  } finally {
    session.progress.done();
    await session.close();
  }

  const { report, verdict } = buildReport(
    {
      target: session.targetDescriptor,
      backend: session.backend,
      seed: session.seed,
      startedAt,
      finishedAt: new Date().toISOString(),
      manifest: summarizeManifest(session.manifest.manifest, session.manifest.digest),
      binding: session.binding,
      results,
      failures,
      ledger,
    },
    policy,
  );
  const reportJson = serializeReport(report);
  const reportSha = sha256Hex(reportJson);
  const publish = async (checkpoint: AuditLogHead | null) => {
    const attestation = attestStatement(privacyAuditStatement(report, reportSha, checkpoint), o.signingKey);
    const files = await writeRunFiles(
      o.outDir,
      [
        { name: 'report.json', content: reportJson },
        { name: 'report.md', content: renderMarkdown(report) },
        { name: 'report.html', content: renderHtml(report) },
        { name: attestationFileName, content: JSON.stringify(attestation.envelope, null, 2) + '\n' },
      ],
      session.manifest.manifest,
    );
    return { value: { attestation, reportPath: files[0]!, attestationPath: files[3]! }, undo: () => files.forEach((f) => rmSync(f, { force: true })) };
  };
  // The entry cannot list the attestation's digest: the attestation signs the entry's hash instead.
  const entry: AuditLogRecord = {
    command: 'audit',
    purpose: o.purpose,
    inputs: [
      { name: 'target', sha256: report.target.digest },
      { name: 'manifest', sha256: report.manifest.digest },
      { name: 'policy', sha256: verdict.policy.digest },
    ],
    outputs: [{ name: join(o.outDir, 'report.json'), sha256: reportSha }],
    exitCode: verdict.exitCode,
    verdict: verdict.verdict,
  };
  const { attestation, reportPath, attestationPath } = o.auditLogPath
    ? (await appendAuditLogAfter(entry, o.auditLogPath, (e) => publish({ seq: e.seq, hash: e.hash }))).value
    : (await publish(null)).value;
  return { report, verdict, reportPath, attestationPath, signed: attestation.signed, keyid: attestation.keyid, probesRun };
}
