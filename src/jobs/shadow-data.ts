/**
 * The training records of a shadow-model job, rebuilt inside the job from references: dataset
 * files by path + sha256 (+ record indices), manifest canaries by id. A file whose content no
 * longer matches its digest is refused (the cached result would silently describe other data).
 */
import { InputError } from '../core/errors.js';
import { sha256File } from '../core/hash.js';
import { readRecords, type DataFormat, type DataRecord } from '../data/index.js';
import { readManifest } from '../canary/index.js';

export type ShadowSource =
  | {
      kind: 'records';
      path: string;
      sha256: string;
      format?: string;
      textField?: string;
      labelColumn?: string;
      /** 0-based indices of the records to take, in file order; null = all. */
      indices: number[] | null;
      /** Copies of each taken record. */
      repetitions: number;
    }
  | {
      kind: 'manifest-canaries';
      path: string;
      sha256: string;
      ids: string[];
      repetitions: number;
    };

async function checkDigest(path: string, sha256: string, what: string): Promise<void> {
  let actual: string;
  try {
    actual = await sha256File(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputError(`${path}: cannot read ${what} (${code === 'ENOENT' ? 'file not found' : (code ?? (e as Error).message)})`);
  }
  if (actual !== sha256) throw new InputError(`${path}: ${what} changed since the shadow jobs were planned (sha256 ${actual.slice(0, 12)}, expected ${sha256.slice(0, 12)})`);
}

function repeat<T>(items: T[], times: number): T[] {
  const out: T[] = [];
  for (let r = 0; r < times; r++) out.push(...items);
  return out;
}

/**
 * The records of every source, in order, each repeated as asked. Records look like the data
 * readers' (`text` for language models, `row` for CSV rows with the label in its column).
 */
export async function materializeSources(sources: readonly ShadowSource[], labelColumn: string | undefined): Promise<DataRecord[]> {
  const out: DataRecord[] = [];
  for (const source of sources) {
    if (source.kind === 'records') {
      await checkDigest(source.path, source.sha256, 'the dataset');
      const wanted = source.indices === null ? null : new Set(source.indices);
      const taken: DataRecord[] = [];
      let index = 0;
      for await (const record of readRecords(source.path, { format: source.format as DataFormat | undefined, textField: source.textField })) {
        if (wanted === null || wanted.has(index)) taken.push(record);
        index++;
      }
      if (wanted !== null && wanted.size > 0 && Math.max(...wanted) >= index) {
        throw new InputError(`${source.path}: has ${index} records, fewer than the shadow jobs expect`);
      }
      out.push(...repeat(taken, source.repetitions));
    } else {
      await checkDigest(source.path, source.sha256, 'the manifest');
      const manifest = readManifest(source.path);
      const byId = new Map(manifest.canaries.map((c) => [c.id, c]));
      const taken: DataRecord[] = source.ids.map((id) => {
        const c = byId.get(id);
        if (!c) throw new InputError(`${source.path}: no canary with id "${id}"`);
        if (c.record && c.label !== undefined) {
          const column = labelColumn ?? manifest.labelColumn;
          if (!column) throw new InputError(`${source.path}: tabular canaries need the label column (manifest /labelColumn)`);
          const row: Record<string, string> = {};
          for (const [k, v] of Object.entries(c.record)) row[k] = String(v);
          row[column] = c.label;
          return { line: 0, row, raw: '' };
        }
        return { line: 0, text: c.text, raw: c.text };
      });
      out.push(...repeat(taken, source.repetitions));
    }
  }
  return out;
}
