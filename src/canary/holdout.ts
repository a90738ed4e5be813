/**
 * `canary insert --holdout K`: K real records, chosen uniformly at random, are moved out of the
 * training output into a holdout file (the same format; CSV keeps its header), so membership can
 * be measured on real members against real non-members (docs/FORMATS.md, "Insertion manifest:
 * holdout"). The records are found by a counting pass, then the chosen indices are routed during
 * the copy: their bytes go to the holdout file and are left out of the output (survey.ts writes the
 * output from the splices). Memory grows with K, never with the data.
 */
import { basename, dirname, extname, join } from 'node:path';
import { UsageError } from '../core/errors.js';
import type { Rng } from '../core/rng.js';
import { uniformSubset } from '../core/sample.js';
import { readChunksSync } from '../data/open.js';
import { SplicedOutput, type Splice } from '../data/spliced-output.js';
import { RecordSplitter, type SplitMode } from '../data/splitter.js';

/** `train.jsonl` -> `train.holdout.jsonl` (beside the training output). */
export function defaultHoldoutPath(out: string): string {
  const ext = extname(out);
  return join(dirname(out), `${basename(out, ext)}.holdout${ext}`);
}

/** Records of a dataset file, as the insertion's splitter counts them (CSV: without the header). */
export function countRecords(path: string, mode: SplitMode): number {
  const splitter = new RecordSplitter(mode, path);
  let base = 0;
  for (const chunk of readChunksSync(path)) {
    splitter.scan(chunk, base, 0);
    base += chunk.length;
  }
  splitter.finish();
  return splitter.records;
}

/**
 * The 0-based indices of the records to hold out, ascending: a counting pass gives the number N of
 * input records, then a uniform K-subset of [0, N) is drawn (Floyd's algorithm, src/core/sample.ts),
 * so every record is held out with probability K/N and every K-subset is equally likely, whatever
 * the records' lengths or order (a byte-offset draw, as for canary placements, would favour long records).
 */
export function chooseHoldout(path: string, mode: SplitMode, k: number, rng: Rng): number[] {
  if (!Number.isInteger(k) || k < 0) throw new UsageError(`--holdout must be a non-negative integer, got ${k}`);
  const records = countRecords(path, mode);
  if (k >= records) throw new UsageError(`--holdout ${k}: ${path} has ${records} records; hold out fewer than that (the training data needs at least one)`);
  return uniformSubset(records, k, rng);
}

/**
 * Routes held-out records during the copy. The copy calls `recordEnd` at every record boundary
 * while `wantsEveryRecord` (it then scans record by record), and `chunkEnd` after each chunk; each
 * held-out record's bytes, from the end of the record before it through its own line ending, are
 * written to the holdout file and left out of the output by a skipping splice. CSV: the header
 * row is copied to the holdout file, never left out.
 */
export class HoldoutRouter {
  private readonly file: SplicedOutput;
  private next = 0;
  /** Chunk offset where the span being copied began in the current chunk (0 when it began in an earlier one). */
  private from: number | undefined;
  /** Whether the open span is left out of the output (a held-out record; not the CSV header). */
  private cutting = false;
  private chunk: Buffer = Buffer.alloc(0);
  /** Whether the last input record was held out (then the output already ends with a line ending). */
  lastHeldOut = false;

  constructor(
    private readonly indices: number[],
    fd: number,
    mode: SplitMode,
  ) {
    this.file = new SplicedOutput(fd);
    if (mode === 'csv') this.open(0, false);
    else if (indices[0] === 0) this.open(0, true);
  }

  get records(): number {
    return this.indices.length;
  }

  /** While a held-out record or the CSV header is ahead, the copy must stop at every record end. */
  get wantsEveryRecord(): boolean {
    return this.next < this.indices.length || this.from !== undefined;
  }

  startChunk(chunk: Buffer): void {
    this.chunk = chunk;
    if (this.from !== undefined) this.from = 0;
  }

  /**
   * A record boundary at chunk offset `at`, `completed` records (CSV: data records) before it: the
   * span of a held-out record (or the header) ends here, and the next one may begin.
   */
  recordEnd(at: number, completed: number, splices: Splice[]): void {
    if (this.from !== undefined) this.close(at, splices);
    if (this.indices[this.next] === completed) this.open(at, true);
  }

  /** The end of a chunk: an open span continues into the next one. */
  chunkEnd(splices: Splice[]): void {
    if (this.from === undefined) return;
    this.copy(this.chunk.length, splices);
  }

  /** End of input (after the splitter's finish): a last record without a line ending ends here. */
  finish(records: number): void {
    if (this.from !== undefined && this.cutting && this.indices[this.next] === records - 1) {
      this.from = undefined;
      this.next++;
      this.lastHeldOut = true;
    }
    if (this.next !== this.indices.length) throw new Error(`holdout: ${this.next} of ${this.indices.length} records routed`);
  }

  hex(): string {
    return this.file.hex();
  }

  private open(at: number, cutting: boolean): void {
    this.from = at;
    this.cutting = cutting;
  }

  private close(at: number, splices: Splice[]): void {
    this.copy(at, splices);
    if (this.cutting) this.next++;
    this.from = undefined;
  }

  /** Copies the open span up to chunk offset `to` into the holdout file (and out of the output). */
  private copy(to: number, splices: Splice[]): void {
    const from = this.from!;
    if (to <= from) return;
    this.file.push(this.chunk.subarray(from, to));
    if (this.cutting) splices.push([from, empty, to - from]);
  }
}

const empty = new Uint8Array(0);
