/**
 * What `memaudit demo` runs: one synthetic dataset with planted MRN canaries, and the same char
 * LM trained twice on it, without DP and with DP-SGD at a target epsilon. `quick` is sized to
 * finish in about a minute on a 2-core machine on the wasm backend; the full demo trains on more
 * notes for longer and probes harder.
 */
import type { TrainConfig } from '../train/config.js';
import type { ProbeName } from '../../probes/types.js';

export interface DemoRunPlan {
  name: 'no-dp' | 'dp';
  train: TrainConfig;
}

export interface DemoPlan {
  notes: number;
  /** Built-in canary pack: MRN-style 8-digit secrets (2^26.6 candidates, estimated exposure). */
  pack: string;
  /** Inserted canaries per repetition count (the default policy's power rule needs >= 5). */
  canariesPerRepetition: number;
  repetitions: number[];
  /** Never-inserted canaries: the exposure baseline and the membership non-members (policy needs >= 20). */
  references: number;
  runs: DemoRunPlan[];
  probeOptions: Partial<Record<ProbeName, Record<string, unknown>>>;
}

const common = { model: 'charlm', clipNorm: 1, learningRate: 0.01, optimizer: 'adam', accountant: 'rdp' } as const;

/** The DP run's budget: epsilon about 3 at delta 1e-5 (the default policy's ceilings). */
export const demoTargetEpsilon = 3;
export const demoDelta = 1e-5;

export function demoPlan(quick: boolean): DemoPlan {
  const epochs = quick ? 8 : 12;
  return {
    notes: quick ? 60 : 400,
    pack: 'mrn',
    canariesPerRepetition: 5,
    repetitions: [1, 4, 16],
    references: quick ? 20 : 40,
    runs: [
      { name: 'no-dp', train: { ...common, dp: false, batchSize: 16, epochs } },
      {
        name: 'dp',
        train: { ...common, dp: true, targetEpsilon: demoTargetEpsilon, delta: demoDelta, batchSize: quick ? 32 : 64, epochs },
      },
    ],
    probeOptions: {
      extraction: { samples: quick ? 8 : 64 },
      exposure: quick ? { samples: 2000 } : {},
    },
  };
}
