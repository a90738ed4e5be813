/** Whether the manifest describes this model's training data (its output digest against the model's recorded training data). */
import type { AuditEvidence } from '../evidence.js';
import { reason, type Reason } from './reason.js';

export function bindingChecks(e: AuditEvidence): Reason[] {
  const manifestSha = e.binding?.manifestOutputSha256 ?? e.manifest.output.sha256;
  const modelSha = e.binding?.modelTrainingDataSha256 ?? null;
  const base = { probe: 'manifest' as const, metric: 'bindsModelTrainingData' };
  if (modelSha === null) {
    // INFO, not INCONCLUSIVE: an API (or a model without memaudit.json) never states its training
    // data digest, so INCONCLUSIVE here would make every API audit inconclusive by construction and
    // no API model could ever be cleared. The report and attestation record the missing digest
    // (null), so whoever relies on the verdict sees the binding was taken on trust.
    return [reason({ ...base, outcome: 'INFO', message: `manifest binding unverified: the target does not state its training data digest, so nothing checks that the manifest (output sha256 ${manifestSha}) describes this model's training data` })];
  }
  if (modelSha !== manifestSha) {
    // `audit` refuses such a pair before probing; this catches an edited report or a library caller.
    return [reason({ ...base, outcome: 'INCONCLUSIVE', message: `the manifest does not belong to the model: its output dataset (sha256 ${manifestSha}) is not the model's training data (sha256 ${modelSha}), so its canaries say nothing about this model` })];
  }
  return [reason({ ...base, outcome: 'PASS', message: `the manifest's output dataset is the model's training data (sha256 ${modelSha})` })];
}
