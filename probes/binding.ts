/**
 * Binding a manifest to the model it is used on. The dataset `canary insert` wrote must be the
 * one the model was trained on; otherwise the canaries probed were never in the model's training
 * data, and their absence would clear it. Checked by every probe session, before the model loads.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../src/core/errors.js';
import type { Manifest } from '../src/canary/types.js';
import { META_JSON, readModelMeta } from '../src/models/model-dir.js';
import { parseTargetSpec } from '../src/targets/spec.js';
import type { ManifestBinding } from '../src/policy/evidence.js';

/**
 * The training data digest a local memaudit model directory records (memaudit.json), or null
 * when the target cannot tell: an API, or a model directory without memaudit.json.
 */
export function modelTrainingData(target: string): { metaPath: string; sha256: string } | null {
  const spec = parseTargetSpec(target);
  if (spec.kind !== 'local') return null;
  const metaPath = join(spec.dir, META_JSON);
  if (!existsSync(metaPath)) return null;
  return { metaPath, sha256: readModelMeta(spec.dir).trainingData.sha256 };
}

/** The binding record; a mismatch is bad input (exit 2). */
export function manifestBinding(manifestPath: string, manifest: Manifest, model: { metaPath: string; sha256: string } | null): ManifestBinding {
  const manifestSha = manifest.output.sha256;
  if (model && model.sha256 !== manifestSha) {
    throw new InputError(
      `${manifestPath}: the manifest does not belong to the model: its output dataset (sha256 ${manifestSha.slice(0, 12)}...) is not the training data recorded in ${model.metaPath} (sha256 ${model.sha256.slice(0, 12)}...)`,
    );
  }
  return { manifestOutputSha256: manifestSha, modelTrainingDataSha256: model?.sha256 ?? null };
}
