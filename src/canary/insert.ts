/**
 * Streaming canary insertion (`canary insert`). The input is read in chunks and copied verbatim
 * to the output, split at record boundaries, with canary lines spliced in after the chosen
 * records; beside it the input is searched for any canary secret and the input and output are
 * hashed (survey.ts: for large inputs a worker thread reads the file itself, learns only where
 * lines are spliced in, and writes and hashes the output; the scan is shared), and the run is
 * refused if a secret is there: such a canary would look memorized without being learned. Memory
 * is bounded by the chunk size and the number of copies, never by the data. Records are checked
 * in the same pass (UTF-8, each JSONL line parsed, each CSV row parsed), so insertion refuses
 * what `train` refuses. With `--holdout K`, K chosen records go to a holdout file instead of the
 * output (holdout.ts). The outputs and the manifest (and its signature) are written to temporary
 * files and appear together only when everything succeeded.
 */
import { rmSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse as parseCsv } from 'csv-parse';
import type { LoadedPrivateKey } from '../attest/keys.js';
import { AtomicFileWriter, commitAll } from '../core/atomic.js';
import { InputError, UsageError } from '../core/errors.js';
import { silentProgress, type Progress } from '../core/progress.js';
import type { Rng } from '../core/rng.js';
import { toolVersion } from '../core/version.js';
import { csvLine, readCsvHeader } from '../data/csv.js';
import { resolveFormat, type DataFormat } from '../data/format.js';
import { checkReadableFile, readChunksSync } from '../data/open.js';
import { notUtf8Error, Utf8Check } from '../data/lines.js';
import { csvInputError, csvParserOptions, defaultTextField, drainedOrClosed, jsonlText, parseJsonlLine } from '../data/readers.js';
import { RecordSplitter } from '../data/splitter.js';
import type { Splice } from '../data/spliced-output.js';
import { chooseHoldout, defaultHoldoutPath, HoldoutRouter } from './holdout.js';
import { manifestEnvelopePath, signManifest } from './manifest-signature.js';
import { bernoulliInclusion, planPlacements, planRoles, type InsertionMode } from './roles.js';
import { firstSecret, lineAtOffset, preferThreadedSurvey, surveyInput, type InputSurvey } from './survey.js';
import type { CanarySet, Manifest, ManifestCanary } from './types.js';

export interface InsertOptions {
  /** The dataset to insert into. */
  data: string;
  format?: DataFormat;
  /** JSONL: the text field (default "text"). CSV with a text pack: the column that gets the canary text. */
  textField?: string;
  /** Tabular packs: the CSV column that gets the label (default: the pack's, else "label"). */
  labelColumn?: string;
  canaries: CanarySet;
  mode?: InsertionMode;
  repetitions: number[];
  references?: number;
  out: string;
  manifest: string;
  rng: Rng;
  progress?: Progress;
  /** Survey the input (digest, secret scan) on a worker thread; default: large inputs when a core is free. */
  threadedSurvey?: boolean;
  /** Real records to withhold from the output into a holdout file (uniformly at random; 0 = none). */
  holdout?: number;
  /** The holdout file (default: beside `out`, e.g. train.holdout.jsonl). */
  holdoutOut?: string;
  /** Sign the manifest: a DSSE envelope over its bytes beside it (manifest-signature.ts). */
  signingKey?: LoadedPrivateKey | null;
}

type Eol = '\n' | '\r\n';

/** How each canary is written as one record of the dataset's format. */
function lineRenderer(o: InsertOptions, format: DataFormat, header: string[] | undefined, textField: string | undefined) {
  const set = o.canaries;
  return (c: ManifestCanary, eol: Eol): string => {
    if (format === 'text') return c.text + eol;
    if (format === 'jsonl') return JSON.stringify({ [textField!]: c.text }) + eol;
    if (set.kind === 'text') return csvLine(header!.map((col) => (col === textField ? c.text : '')), eol);
    const label = o.labelColumn ?? set.labelColumn ?? 'label';
    return csvLine(header!.map((col) => (col === label ? c.label! : c.record![col]!)), eol);
  };
}

/** Checks the CSV header against what will be written into it. */
function checkCsvColumns(path: string, header: string[], set: CanarySet, textField: string | undefined, labelColumn: string): void {
  if (set.kind === 'text') {
    if (textField === undefined) throw new UsageError(`--text-field: name the column of ${path} that gets the canary text (columns: ${header.join(', ')})`);
    if (!header.includes(textField)) throw new InputError(`${path}: no column "${textField}" (columns: ${header.join(', ')})`);
    return;
  }
  const features = Object.keys(set.canaries[0]!.record ?? {});
  const expected = new Set([...features, labelColumn]);
  const missing = [...expected].filter((c) => !header.includes(c));
  const extra = header.filter((c) => !expected.has(c));
  if (missing.length || extra.length) {
    throw new InputError(
      `${path}: columns do not match the ${set.pack} canaries` +
        (missing.length ? `; missing: ${missing.join(', ')}` : '') +
        (extra.length ? `; not in the canary rows: ${extra.join(', ')}` : '') +
        ' (use --label-column if the label column has another name)',
    );
  }
}

export async function insertCanaries(o: InsertOptions): Promise<Manifest> {
  const progress = o.progress ?? silentProgress;
  const set = o.canaries;
  const mode = o.mode ?? 'fixed';
  const format = resolveFormat(o.data, o.format);
  const paths = { data: resolve(o.data), out: resolve(o.out), manifest: resolve(o.manifest) };
  if (paths.out === paths.data) throw new UsageError(`--out must differ from --data (${o.data} is never modified)`);
  if (paths.manifest === paths.data || paths.manifest === paths.out) throw new UsageError('--manifest must differ from --data and --out');
  const holdoutOut = o.holdout ? (o.holdoutOut ?? defaultHoldoutPath(o.out)) : undefined;
  if (holdoutOut !== undefined && [paths.data, paths.out, paths.manifest].includes(resolve(holdoutOut))) {
    throw new UsageError(`--holdout-out ${holdoutOut} must differ from --data, --out and --manifest`);
  }
  if (set.kind === 'tabular' && format !== 'csv') throw new UsageError(`the ${set.pack} canaries are table rows: --data must be a CSV file, not ${format}`);
  const inputBytes = checkReadableFile(o.data);
  const before = statSync(o.data);

  const textField = format === 'jsonl' ? (o.textField ?? defaultTextField) : format === 'csv' && set.kind === 'text' ? o.textField : undefined;
  const labelColumn = o.labelColumn ?? set.labelColumn ?? 'label';
  const header = format === 'csv' ? await readCsvHeader(o.data) : undefined;
  if (header) checkCsvColumns(o.data, header, set, textField, labelColumn);

  const canaries = planRoles(set, { mode, repetitions: o.repetitions, references: o.references ?? 0 }, o.rng);
  const splitMode = format === 'csv' ? 'csv' : 'lines';
  const held = o.holdout ? chooseHoldout(o.data, splitMode, o.holdout, o.rng.fork('holdout')) : undefined;
  const placements = planPlacements(canaries, inputBytes, o.rng);
  const render = lineRenderer(o, format, header, textField);
  const rendered = new Map<number, Buffer>();
  const lineFor = (i: number, eol: Eol) => {
    let b = rendered.get(i);
    if (!b) rendered.set(i, (b = Buffer.from(render(canaries[i]!, eol), 'utf8')));
    return b;
  };

  // Every JSONL record is parsed in the pass that splits it, as the readers would (`train` refuses
  // what they refuse): one JSON object per line with a string text field.
  const check =
    format === 'jsonl'
      ? (record: Buffer, line: number) => void jsonlText(o.data, line, parseJsonlLine(o.data, line, record.toString('utf8')), textField!)
      : undefined;
  const utf8 = new Utf8Check();
  const splitter = new RecordSplitter(splitMode, o.data, check);
  const secrets = set.kind === 'text' ? set.canaries.map((c) => c.secret) : undefined;
  let survey: InputSurvey | undefined;
  const refuse = async (found: { pattern: number; offset: number }) => {
    const match = (await firstSecret(o.data, secrets!)) ?? found;
    const c = set.canaries[match.pattern]!;
    return new InputError(
      `${o.data} line ${await lineAtOffset(o.data, match.offset)}: already contains the secret of canary ${c.id}; ` +
        'refusing to insert (it would look memorized without being learned; draw other canaries with another --seed)',
    );
  };

  // CSV: every row is parsed alongside the copy, to validate it and, for table-row canaries, to
  // refuse a row that already has a canary's combination of values.
  let csvError: Error | undefined;
  let csvRecords = 0;
  let csvDone: Promise<void> | undefined;
  let parser: ReturnType<typeof parseCsv> | undefined;
  if (format === 'csv') {
    const keyColumns = set.kind === 'tabular' ? Object.keys(set.canaries[0]!.record!) : [];
    const keys = new Map(set.canaries.map((c) => [keyColumns.map((k) => String(c.record?.[k])).join('\u0000'), c.id]));
    parser = parseCsv({ ...csvParserOptions(o.data), info: true });
    parser.on('data', (item: { record: Record<string, string>; info: { lines: number } }) => {
      csvRecords++;
      if (keyColumns.length && !csvError) {
        const id = keys.get(keyColumns.map((k) => item.record[k]).join('\u0000'));
        if (id) csvError = new InputError(`${o.data} line ${item.info.lines}: this row already has the values of canary ${id}; refusing to insert (draw other canaries with another --seed)`);
      }
    });
    csvDone = new Promise<void>((resolveDone) => {
      parser!.on('end', resolveDone);
      parser!.on('error', (e) => {
        csvError ??= csvInputError(o.data, e);
        resolveDone();
      });
    });
  }

  const out = new AtomicFileWriter(o.out);
  const manifestWriter = new AtomicFileWriter(o.manifest);
  // Real records: private to the user, like the input.
  const holdoutWriter = holdoutOut !== undefined ? new AtomicFileWriter(holdoutOut, { mode: 0o600 }) : undefined;
  const holdout = held && holdoutWriter ? new HoldoutRouter(held, holdoutWriter.fd, splitMode) : undefined;
  const envelopeWriter = o.signingKey ? new AtomicFileWriter(manifestEnvelopePath(o.manifest)) : undefined;

  try {
    survey = surveyInput(o.data, secrets, o.threadedSurvey ?? (await preferThreadedSurvey(inputBytes)), { fd: out.fd, path: o.out });
    let base = 0;
    let next = 0;
    // The scan stops after the record holding the next placement's byte; while held-out records are
    // ahead, after every record (after = -1).
    const stopAfter = () => (holdout?.wantsEveryRecord ? -1 : next < placements.length ? placements[next]!.offset : Infinity);
    // Synchronous reads into one reused buffer (and one writev per chunk, survey.ts): for
    // page-cached files this beat a read stream piped through a queued write stream (copy-thread
    // loop 280-300 ms vs 340-460 ms on 200 MB; measured): the thread pool's hand-offs competed
    // with the two busy threads.
    for (const chunk of readChunksSync(o.data)) {
      if (survey.match) throw await refuse(survey.match);
      if (!utf8.feed(chunk)) throw await notUtf8Error(o.data);
      // The parser may queue the chunk, whose buffer is reused for the next read; it closes on an error.
      if (parser && !parser.write(Buffer.from(chunk))) await drainedOrClosed(parser);
      if (csvError) throw csvError;
      const inserts: Splice[] = [];
      holdout?.startChunk(chunk);
      for (let at = 0; (at = splitter.scan(chunk, base, at, stopAfter())) !== -1; ) {
        holdout?.recordEnd(at, splitter.completed, inserts);
        while (next < placements.length && placements[next]!.offset < base + at) inserts.push([at, lineFor(placements[next++]!.canary, splitter.eol ?? '\n')]);
      }
      holdout?.chunkEnd(inserts);
      survey.push(chunk, inserts);
      base += chunk.length;
      progress.step('canary insert (MiB)', Math.round(base / 2 ** 20), Math.round(inputBytes / 2 ** 20));
      // The event loop runs between chunks: the worker's messages, signals (atomic cleanup).
      await new Promise((ok) => setImmediate(ok));
    }
    if (!utf8.finish()) throw await notUtf8Error(o.data);
    splitter.finish();
    if (splitter.records === 0) throw new InputError(`${o.data}: no records${format === 'csv' ? ' after the header row' : ''}`);
    holdout?.finish(splitter.records);
    if (next < placements.length) {
      const tail: Splice[] = [];
      if (splitter.needsEol && !holdout?.lastHeldOut) tail.push([0, Buffer.from(splitter.eol!)]);
      while (next < placements.length) tail.push([0, lineFor(placements[next++]!.canary, splitter.eol!)]);
      survey.push(Buffer.alloc(0), tail);
    }
    const surveyed = await survey.result();
    if (surveyed.match) throw await refuse(surveyed.match);
    if (parser) {
      parser.end();
      await csvDone;
      if (csvError) throw csvError;
      if (csvRecords !== splitter.records) throw new Error(`CSV record count mismatch: parser ${csvRecords}, splitter ${splitter.records}`);
    }
    const after = statSync(o.data);
    if (after.size !== before.size || after.mtimeMs !== before.mtimeMs || base !== inputBytes || surveyed.bytes !== base) {
      throw new InputError(`${o.data}: changed while it was being read; run again on a file that is not being written`);
    }
    const copies = placements.length;
    const heldOut = holdout?.records ?? 0;
    const manifest: Manifest = {
      version: 1,
      mode,
      seed: o.rng.seed,
      pack: set.pack,
      kind: set.kind,
      secretSpace: set.secretSpace,
      spaceSize: set.spaceSize,
      spaceSizeLog2: set.spaceSizeLog2,
      input: { path: o.data, sha256: surveyed.sha256, records: splitter.records, format },
      output: { path: o.out, sha256: surveyed.outputSha256!, records: splitter.records - heldOut + copies, format },
      ...(holdout ? { holdout: { path: holdoutOut!, sha256: holdout.hex(), records: heldOut, format } } : {}),
      ...(textField !== undefined ? { textField } : {}),
      ...(set.kind === 'tabular' ? { labelColumn } : {}),
      ...(mode === 'bernoulli' ? { inclusionProbability: bernoulliInclusion } : {}),
      canaries,
      createdAt: new Date().toISOString(),
      toolVersion,
    };
    const manifestBytes = Buffer.from(JSON.stringify(manifest, null, 2) + '\n', 'utf8');
    await manifestWriter.write(manifestBytes);
    if (envelopeWriter) await envelopeWriter.write(JSON.stringify(signManifest(manifestBytes, o.signingKey!), null, 2) + '\n');
    await commitAll([out, ...(holdoutWriter ? [holdoutWriter] : []), manifestWriter, ...(envelopeWriter ? [envelopeWriter] : [])]);
    // An envelope left from an earlier signed run is over other bytes: it would fail every audit.
    if (!envelopeWriter) rmSync(manifestEnvelopePath(o.manifest), { force: true });
    progress.done();
    return manifest;
  } catch (e) {
    parser?.destroy();
    await survey?.abort();
    await out.abort();
    await manifestWriter.abort();
    await holdoutWriter?.abort();
    await envelopeWriter?.abort();
    progress.done();
    throw e;
  }
}
