/**
 * Candidate records of a membership test, with their ground truth, from one of two sources:
 * - the insertion manifest (the controlled experiment): inserted canaries are members, reference
 *   canaries (drawn from the same space, never inserted) are non-members;
 * - the user's files (`--members F --non-members F`): each record of F is a candidate.
 * Each candidate remembers where it came from, so a shadow-model job can reference it by file
 * digest and index instead of carrying the record itself (jobs and caches hold no PHI).
 */
import { InputError, UsageError } from '../../src/core/errors.js';
import { sha256File } from '../../src/core/hash.js';
import { readRecords, type DataFormat } from '../../src/data/index.js';
import type { Manifest } from '../../src/canary/types.js';
import type { FeatureRow, TargetTask } from '../../src/targets/target.js';

export type CandidateOrigin =
  | { kind: 'manifest'; id: string }
  | { kind: 'file'; file: 'members' | 'nonMembers'; index: number };

export interface Candidate {
  id: string;
  member: boolean;
  /** Language models: the text scored. */
  text?: string;
  /** Classifiers: the feature row and its true label. */
  row?: FeatureRow;
  label?: string;
  /** Copies in the training data (manifest canaries; 1 for file records that are members, 0 otherwise). */
  repetitions: number;
  origin: CandidateOrigin;
}

export interface CandidateSet {
  population: 'manifest' | 'files';
  task: TargetTask;
  candidates: Candidate[];
  /** Files mode: the two files, with digests (what shadow jobs reference). */
  files?: { members: CandidateFile; nonMembers: CandidateFile };
}

export interface CandidateFile {
  path: string;
  sha256: string;
  format?: DataFormat;
  textField?: string;
  labelColumn?: string;
  records: number;
}

/** Inserted canaries (members) and reference canaries (non-members) of a manifest. */
export function candidatesFromManifest(manifest: Manifest, task: TargetTask): CandidateSet {
  const candidates: Candidate[] = manifest.canaries.map((c) => {
    const base = { id: c.id, member: c.role === 'inserted' && c.repetitions > 0, repetitions: c.repetitions, origin: { kind: 'manifest' as const, id: c.id } };
    if (task === 'classifier') {
      if (!c.record || c.label === undefined) throw new InputError(`manifest canary ${c.id}: a classifier target needs tabular canaries (record and label)`);
      return { ...base, row: c.record, label: c.label };
    }
    return { ...base, text: c.text };
  });
  return { population: 'manifest', task, candidates };
}

export interface FileOptions {
  format?: DataFormat;
  textField?: string;
  /** Classifiers: the CSV column holding the label. */
  labelColumn?: string;
}

async function readCandidateFile(path: string, which: 'members' | 'nonMembers', task: TargetTask, options: FileOptions): Promise<{ file: CandidateFile; candidates: Candidate[] }> {
  const candidates: Candidate[] = [];
  const member = which === 'members';
  for await (const record of readRecords(path, { format: options.format, textField: options.textField })) {
    const index = candidates.length;
    const id = `${which === 'members' ? 'member' : 'non-member'}:${record.line}`;
    const base = { id, member, repetitions: member ? 1 : 0, origin: { kind: 'file' as const, file: which, index } };
    if (task === 'classifier') {
      if (!record.row) throw new InputError(`${path}: a classifier target needs CSV records (a header row, then one row per record)`);
      if (!options.labelColumn) throw new UsageError('--label-column is required for a classifier target');
      const { [options.labelColumn]: label, ...row } = record.row;
      if (label === undefined || label === '') throw new InputError(`${path} line ${record.line}: no value in label column "${options.labelColumn}"`);
      candidates.push({ ...base, row, label });
    } else {
      const text = record.text ?? record.raw;
      if (text === '') throw new InputError(`${path} line ${record.line}: empty text`);
      candidates.push({ ...base, text });
    }
  }
  if (candidates.length === 0) throw new InputError(`${path}: no records`);
  return {
    file: { path, sha256: await sha256File(path), format: options.format, textField: options.textField, labelColumn: options.labelColumn, records: candidates.length },
    candidates,
  };
}

/** Every record of the members file (members) and of the non-members file (non-members). */
export async function candidatesFromFiles(membersPath: string, nonMembersPath: string, task: TargetTask, options: FileOptions = {}): Promise<CandidateSet> {
  const members = await readCandidateFile(membersPath, 'members', task, options);
  const nonMembers = await readCandidateFile(nonMembersPath, 'nonMembers', task, options);
  return {
    population: 'files',
    task,
    candidates: [...members.candidates, ...nonMembers.candidates],
    files: { members: members.file, nonMembers: nonMembers.file },
  };
}
