/**
 * Candidate records of a membership test, with their ground truth, from one of three sources:
 * - the insertion manifest (the controlled experiment): inserted canaries are members, reference
 *   canaries (drawn from the same space, never inserted) are non-members;
 * - real records (a manifest with a holdout, `canary insert --holdout K`): a seeded uniform sample
 *   of the training output's real (non-canary) records are members, the holdout's records non-members;
 * - the user's files (`--members F --non-members F`): each record of F is a candidate.
 * Each candidate remembers where it came from, so a shadow-model job can reference it by file
 * digest and index instead of carrying the record itself (jobs and caches hold no PHI).
 */
import { InputError, UsageError } from '../../src/core/errors.js';
import { sha256File } from '../../src/core/hash.js';
import type { Rng } from '../../src/core/rng.js';
import { uniformSubset } from '../../src/core/sample.js';
import { readRecords, type DataFormat, type DataRecord } from '../../src/data/index.js';
import type { Manifest } from '../../src/canary/types.js';
import type { FeatureRow, TargetTask } from '../../src/targets/target.js';
import type { MembershipRecordsSample } from '../types.js';

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
  population: 'manifest' | 'files' | 'records';
  task: TargetTask;
  candidates: Candidate[];
  /** Files and records modes: the two files, with digests (what shadow jobs reference). */
  files?: { members: CandidateFile; nonMembers: CandidateFile };
  /** Records mode: digests and counts of the sample (what the result reports). */
  records?: MembershipRecordsSample;
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

/** A record of a candidate file as a candidate (ids hold the line number only: no content). */
function candidateOf(record: DataRecord, path: string, which: 'members' | 'nonMembers', index: number, task: TargetTask, options: FileOptions): Candidate {
  const member = which === 'members';
  const id = `${member ? 'member' : 'non-member'}:${record.line}`;
  const base = { id, member, repetitions: member ? 1 : 0, origin: { kind: 'file' as const, file: which, index } };
  if (task === 'classifier') {
    if (!record.row) throw new InputError(`${path}: a classifier target needs CSV records (a header row, then one row per record)`);
    if (!options.labelColumn) throw new UsageError('--label-column is required for a classifier target');
    const { [options.labelColumn]: label, ...row } = record.row;
    if (label === undefined || label === '') throw new InputError(`${path} line ${record.line}: no value in label column "${options.labelColumn}"`);
    return { ...base, row, label };
  }
  const text = record.text ?? record.raw;
  if (text === '') throw new InputError(`${path} line ${record.line}: empty text`);
  return { ...base, text };
}

async function readCandidateFile(path: string, which: 'members' | 'nonMembers', task: TargetTask, options: FileOptions): Promise<{ file: CandidateFile; candidates: Candidate[] }> {
  const candidates: Candidate[] = [];
  for await (const record of readRecords(path, { format: options.format, textField: options.textField })) {
    candidates.push(candidateOf(record, path, which, candidates.length, task, options));
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

/** A dataset file of a manifest (training output or holdout) whose digest the caller verified. */
export interface VerifiedFile {
  path: string;
  sha256: string;
  /** Records in the file, as the manifest counts them. */
  records: number;
}

export interface RecordSampleOptions {
  /** Members to draw (default: as many as the holdout has records). */
  members?: number;
  rng: Rng;
}

/**
 * Real records: a uniform sample, without replacement, of the training output's real records
 * (every record that is not a canary copy) as members, and every holdout record as non-members.
 * The training file is streamed (only the sampled records are kept), and its record counts are
 * checked against the manifest.
 */
export async function candidatesFromRecords(manifest: Manifest, training: VerifiedFile, holdout: VerifiedFile, task: TargetTask, options: RecordSampleOptions): Promise<CandidateSet> {
  const fileOptions: FileOptions = { format: manifest.output.format, textField: manifest.textField, labelColumn: manifest.labelColumn };
  const nonMembers = await readCandidateFile(holdout.path, 'nonMembers', task, fileOptions);
  if (nonMembers.candidates.length !== holdout.records) {
    throw new InputError(`${holdout.path}: ${nonMembers.candidates.length} records, but the manifest's holdout has ${holdout.records}`);
  }
  const copies = manifest.canaries.reduce((n, c) => n + c.repetitions, 0);
  const real = training.records - copies;
  const wanted = options.members ?? nonMembers.candidates.length;
  if (!Number.isInteger(wanted) || wanted < 1 || wanted > real) {
    throw new UsageError(`membership: members=${wanted}, but the training data has ${real} real records to draw from (1..${real})`);
  }
  const chosen = uniformSubset(real, wanted, options.rng);
  const isCanary = canaryMatcher(manifest);
  const members: Candidate[] = [];
  let index = 0;
  let ordinal = 0;
  for await (const record of readRecords(training.path, { format: fileOptions.format, textField: fileOptions.textField })) {
    if (!isCanary(record)) {
      if (chosen[members.length] === ordinal) members.push(candidateOf(record, training.path, 'members', index, task, fileOptions));
      ordinal++;
    }
    index++;
  }
  if (index !== training.records || ordinal !== real) {
    throw new InputError(`${training.path}: ${index} records (${ordinal} not canaries), but the manifest's output has ${training.records} (${real} not canaries)`);
  }
  const describe = (f: VerifiedFile, records: number): CandidateFile => ({ path: f.path, sha256: f.sha256, ...fileOptions, records });
  return {
    population: 'records',
    task,
    candidates: [...members, ...nonMembers.candidates],
    files: { members: describe(training, training.records), nonMembers: describe(holdout, holdout.records) },
    records: { training: { sha256: training.sha256, realRecords: real }, holdout: { sha256: holdout.sha256, records: holdout.records }, members: members.length, nonMembers: nonMembers.candidates.length },
  };
}

/**
 * Whether a record of the training output is a canary copy: its text is a canary's text (text
 * packs), or its features are a canary row's (table rows; `canary insert` refuses data that
 * already holds either, so no real record matches).
 */
function canaryMatcher(manifest: Manifest): (record: DataRecord) => boolean {
  const inserted = manifest.canaries.filter((c) => c.repetitions > 0);
  if (manifest.kind === 'tabular') {
    const columns = Object.keys(inserted[0]?.record ?? {});
    const key = (value: (column: string) => unknown) => columns.map((k) => String(value(k))).join('\u0000');
    const keys = new Set(inserted.map((c) => key((k) => c.record![k])));
    return (record) => record.row !== undefined && keys.has(key((k) => record.row![k]));
  }
  const texts = new Set(inserted.map((c) => c.text));
  return (record) => texts.has(record.text ?? record.raw);
}
