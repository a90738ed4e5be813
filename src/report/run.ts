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
import { checkManifestSignature } from '../canary/manifest-signature.js';
import { readManifest } from '../canary/io.js';
import { verifyManifestRoles } from '../canary/verify-roles.js';
import { appendAuditLogAfter, auditLogHead, type AuditLogHead, type AuditLogRecord } from '../attest/audit-log.js';
import { attestationFileName, attestStatement } from '../attest/attestation.js';
import { loadPublicKey, type LoadedPrivateKey } from '../attest/keys.js';
import { privacyAuditStatement } from '../attest/predicate.js';
import type { BackendPreference } from '../core/backend.js';
import { CapabilityError, InconclusiveError } from '../core/errors.js';
import { sha256Hex } from '../core/hash.js';
import type { Progress } from '../core/progress.js';
import type { OpenTargetOptions } from '../targets/options.js';
import type { TargetDescriptor } from '../targets/target.js';
import { summarizeManifest, type DpClaimEvidence, type LedgerEvidence, type ProbeFailure, type ProbeResults } from '../policy/evidence.js';
import { loadPolicy } from '../policy/load.js';
import type { Policy } from '../policy/types.js';
import type { Verdict } from '../policy/verdict.js';
import { buildReport, serializeReport } from './assemble.js';
import { dpClaimFor, modelDirOf } from './dp-claim.js';
import { renderHtml } from './html.js';
import { renderMarkdown } from './markdown.js';
import type { ManifestIntegrity, Report } from './types.js';
import { writeRunFiles } from './write.js';
import { checkProbeOptions, probeOptionsFor } from './probe-options.js';

export { probeOptionsFor };

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
  /** The training data, to check the manifest's roles in (default: the manifest's output at its recorded path, if it is there). */
  trainingData?: string;
  /** Public key files (--trust-key) trusted to sign the manifest and the training provenance (any one). */
  trustKeys?: string[];
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
  const dir = modelDirOf(target);
  const file = dir ? join(dir, 'privacy.json') : null;
  return file && existsSync(file) ? (readPrivacyLedger(file) as LedgerEvidence) : null;
}

/** Required probes, plus dp-audit when the model claims DP and the policy asks to audit claims. */
export function probesToRun(policy: Policy, ledger: LedgerEvidence | null): ProbeName[] {
  const names = [...policy.requiredProbes];
  if (ledger?.dp && policy.dp.auditWhenClaimed && !names.includes('dp-audit')) names.push('dp-audit');
  return names;
}

/**
 * The manifest's signature, and its roles against the training data (docs/SCIENCE.md#manifest-roles):
 * `--data`, else the manifest's output where it was written, if that file is still the output.
 */
export function checkManifestIntegrity(manifestPath: string, trainingData?: string, trustKeys: string[] = []): ManifestIntegrity {
  const signature = checkManifestSignature(manifestPath, trustKeys);
  const manifest = readManifest(manifestPath);
  const recorded = manifest.output.path;
  const data = trainingData ?? (existsSync(recorded) && statSync(recorded).isFile() ? recorded : undefined);
  // Table-row canaries are written as CSV values, not as their secret's text: nothing to count.
  const check = data && manifest.kind === 'text' ? verifyManifestRoles(manifest, manifestPath, data, trainingData === undefined) : null;
  return { signature, roles: check ? { status: 'verified', data: data!, dataSha256: check.sha256 } : { status: 'not-checked', data: null, dataSha256: null } };
}

export async function runAudit(o: AuditRunOptions): Promise<AuditRunResult> {
  // Everything a user can get wrong is checked before the model loads or an API is called.
  const policy = loadPolicy(o.policyPath);
  checkProbeOptions(o.probeOptions ?? {}, policy.policy);
  const manifestIntegrity = checkManifestIntegrity(o.manifestPath, o.trainingData, o.trustKeys);
  const trustedKeys = (o.trustKeys ?? []).map((path) => loadPublicKey(path).key);
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
  const optionsUsed: Partial<Record<ProbeName, Record<string, unknown>>> = {};
  let ledger: LedgerEvidence | null;
  let dpClaim: DpClaimEvidence | undefined;
  try {
    ledger = ledgerFor(session.targetDescriptor);
    dpClaim = await dpClaimFor(session.targetDescriptor, trustedKeys);
    for (const name of probesToRun(policy.policy, ledger)) {
      const probe = findProbe(name);
      if (!probe) {
        failures.push({ probe: name, kind: 'inconclusive', message: `probe ${name} is not available in this memaudit build` });
        continue;
      }
      try {
        const ctx = session.contextFor(probe, probeOptionsFor(name, policy.policy, o.probeOptions?.[name]));
        optionsUsed[name] = ctx.options;
        const result = await runProbe(probe, ctx);
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
      probeOptions: optionsUsed,
      ...(dpClaim ? { dpClaim } : {}),
      manifestIntegrity,
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
