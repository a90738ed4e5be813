/**
 * Writes a run's outputs together: every file appears, or none does (a failure or interrupt
 * leaves no partial run directory contents). Their text is checked for canary text first (phi-guard.ts).
 */
import { join } from 'node:path';
import { abortAll, AtomicFileWriter, commitAll } from '../core/atomic.js';
import type { Manifest } from '../canary/types.js';
import { assertNoCanaryInOutputs } from './phi-guard.js';

export interface OutputFile {
  name: string;
  content: string;
}

export async function writeRunFiles(runDir: string, files: OutputFile[], manifest?: Manifest): Promise<string[]> {
  if (manifest) assertNoCanaryInOutputs(files, manifest);
  const writers = files.map((f) => new AtomicFileWriter(join(runDir, f.name)));
  try {
    for (let i = 0; i < files.length; i++) await writers[i]!.write(files[i]!.content);
    await commitAll(writers);
  } catch (e) {
    await abortAll(writers);
    throw e;
  }
  return writers.map((w) => w.path);
}
