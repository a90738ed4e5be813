/**
 * The DP claim evidence of an audit (AuditEvidence.dpClaim): privacy.json recomputed and matched
 * against memaudit.json (src/accounting/verify-ledger.ts), the signed training provenance verified
 * against the trusted keys and the current weight files (src/attest/provenance.ts), and the
 * trainer's self-audit as recorded.
 */
import type { KeyObject } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { PrivacyLedgerFile } from '../accounting/privacyFile.js';
import { verifyLedger, type LedgerVerification } from '../accounting/verify-ledger.js';
import { verifyProvenance } from '../attest/provenance.js';
import { META_JSON, readModelMeta, readPrivacyRecord } from '../models/model-dir.js';
import type { DpClaimEvidence } from '../policy/evidence.js';
import type { TargetDescriptor } from '../targets/target.js';

/** The model directory of a local target, or null (APIs, a bare model.json). */
export function modelDirOf(target: TargetDescriptor): string | null {
  if (target.kind !== 'local') return null;
  return existsSync(target.target) && statSync(target.target).isDirectory() ? target.target : null;
}

/** privacy.json of a model directory checked against its own parameters and memaudit.json. */
export function verifyModelDirLedger(dir: string, ledger: PrivacyLedgerFile): LedgerVerification {
  const meta = existsSync(join(dir, META_JSON)) ? readModelMeta(dir) : null;
  return verifyLedger(ledger, meta && { records: meta.trainingData.records, seed: meta.seed, training: meta.training });
}

/** DpClaimEvidence of a local model directory that claims DP; undefined when there is no DP claim to check. */
export async function dpClaimFor(target: TargetDescriptor, trustedKeys: readonly KeyObject[]): Promise<DpClaimEvidence | undefined> {
  const dir = modelDirOf(target);
  if (!dir) return undefined;
  const ledger = readPrivacyRecord(dir);
  if (!ledger.dp) return undefined;
  const { ledgerVerified, mismatches, recomputedEpsilon } = verifyModelDirLedger(dir, ledger);
  const provenance = await verifyProvenance(dir, trustedKeys);
  return {
    ledgerVerified,
    mismatches,
    recomputedEpsilon,
    provenance: provenance.provenance,
    ...(provenance.keyId ? { provenanceKeyId: provenance.keyId } : {}),
    ...(provenance.problem ? { provenanceProblem: provenance.problem } : {}),
    ...(ledger.selfAudit ? { selfAudit: ledger.selfAudit } : {}),
  };
}
