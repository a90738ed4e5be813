/** memaudit as a library: the stages a pipeline can call directly. */
export * from './core/errors.js';
export { Rng, rngFromSeed } from './core/rng.js';
export { initBackend, currentBackend, type BackendInfo, type BackendName, type BackendPreference } from './core/backend.js';
export * from './targets/target.js';
export type * from '../probes/types.js';
// Verdict, reports, attestations and the audit log.
export { decide, exposureThreshold, type Verdict, type VerdictName, type Reason, type Outcome } from './policy/verdict.js';
export { loadPolicy, defaultPolicy, policyDigest } from './policy/load.js';
export type { Policy, LoadedPolicy } from './policy/types.js';
export { summarizeManifest, type AuditEvidence, type ManifestSummary, type ProbeFailure, type LedgerEvidence } from './policy/evidence.js';
export { runAudit, type AuditRunOptions, type AuditRunResult } from './report/run.js';
export { buildReport, readReport, serializeReport, evidenceOf } from './report/assemble.js';
export { renderMarkdown } from './report/markdown.js';
export { renderHtml } from './report/html.js';
export { renderJunit, githubAnnotations } from './report/ci.js';
export type { Report } from './report/types.js';
export { pae, signEnvelope, verifyEnvelope, type DsseEnvelope } from './attest/dsse.js';
export { generateSigningKeyPair, loadSigningKey, loadPublicKey, keyIdOf, type SigningAlgorithm } from './attest/keys.js';
export { verifyAttestation } from './attest/verify.js';
export { privacyAuditPredicateType, type Statement } from './attest/statement.js';
export { appendAuditLog, verifyAuditLog, auditLogHead, type AuditLogEntry, type AuditLogRecord } from './attest/audit-log.js';
// The pipeline stages, one namespace each (names inside them may repeat across stages).
export * as accounting from './accounting/index.js';
export * as data from './data/index.js';
export * as canary from './canary/index.js';
export * as models from './models/index.js';
export * as train from './train/index.js';
export { openTarget, targetOptions, type OpenTargetOptions } from './targets/index.js';
export { probes, findProbe, type ProbeModule, type ProbeContext } from '../probes/registry.js';
export { openProbeSession, runProbe, type ProbeSession } from '../probes/common.js';
export { runDemo, type DemoOptions, type DemoResult, type DemoRun } from './demo/run.js';
