/** Builds an in-memory insertion manifest and a ProbeContext around a target, for probe unit tests. */
import type { Manifest, ManifestCanary, SecretSpaceSpec } from '../../../src/canary/types.js';
import { Rng } from '../../../src/core/rng.js';
import { silentProgress } from '../../../src/core/progress.js';
import type { Target } from '../../../src/targets/target.js';
import type { ProbeContext, ProbeModule } from '../../../probes/registry.js';
import { resolveProbeOptions } from '../../../probes/common.js';

export function canary(id: string, prefix: string, secret: string, role: 'inserted' | 'reference', repetitions: number): ManifestCanary {
  return { id, text: prefix + secret, prefix, secret, suffix: '', format: 'digits', role, repetitions };
}

export function manifestOf(canaries: ManifestCanary[], secretSpace: SecretSpaceSpec, log2: number, size: string): Manifest {
  const copies = canaries.reduce((s, c) => s + c.repetitions, 0);
  return {
    version: 1,
    mode: 'fixed',
    seed: 'test',
    pack: 'test',
    kind: 'text',
    secretSpace,
    spaceSize: size,
    spaceSizeLog2: log2,
    input: { path: 'in.jsonl', sha256: 'a'.repeat(64), records: 10, format: 'jsonl' },
    output: { path: 'out.jsonl', sha256: 'b'.repeat(64), records: 10 + copies, format: 'jsonl' },
    canaries,
    createdAt: new Date(0).toISOString(),
    toolVersion: '0.0.0',
  };
}

export async function contextFor(probe: ProbeModule, target: Target, manifest: Manifest, options: Record<string, unknown> = {}, seed = 'seed'): Promise<ProbeContext> {
  return {
    target,
    targetDescriptor: await target.describe(),
    manifest,
    manifestDigest: 'c'.repeat(64),
    rng: new Rng(seed).fork(`probe/${probe.name}`),
    seed,
    backend: 'cpu',
    progress: silentProgress,
    options: resolveProbeOptions(probe, options),
  };
}
