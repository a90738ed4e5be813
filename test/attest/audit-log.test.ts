import { describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { appendAuditLog, auditLogHead, genesisHash, verifyAuditLog } from '../../src/attest/audit-log.js';
import { tempDir } from '../helpers/cli.js';
import { canonicalJson, sha256Hex } from '../../src/core/hash.js';

function logWith(entries: number): string {
  const path = join(tempDir(), 'reports', 'audit-log.jsonl');
  for (let i = 0; i < entries; i++) {
    appendAuditLog({ command: i % 2 ? 'probe exposure' : 'train', purpose: 'release 1.2', inputs: [{ name: 'data', sha256: String(i).repeat(64).slice(0, 64) }], exitCode: 0 }, path, { MEMAUDIT_ACTOR: 'ci' });
  }
  return path;
}

const lines = (path: string) => readFileSync(path, 'utf8').trimEnd().split('\n');

describe('hash-chained audit log', () => {
  it('chains entries from the genesis hash and verifies', () => {
    const path = logWith(4);
    const v = verifyAuditLog(path);
    expect(v).toMatchObject({ ok: true, entries: 4 });
    const entries = lines(path).map((l) => JSON.parse(l));
    expect(entries[0].prev).toBe(genesisHash);
    expect(entries[1].prev).toBe(entries[0].hash);
    expect(entries.map((e) => e.seq)).toEqual([1, 2, 3, 4]);
    expect(entries[0]).toMatchObject({ actor: 'ci', purpose: 'release 1.2', command: 'train' });
    expect(auditLogHead(path)).toEqual({ seq: 4, hash: entries[3].hash });
  });

  it('detects an edited entry', () => {
    const path = logWith(4);
    const l = lines(path);
    l[1] = l[1]!.replace('release 1.2', 'release 1.3');
    writeFileSync(path, l.join('\n') + '\n');
    expect(verifyAuditLog(path)).toMatchObject({ ok: false, problem: { line: 2, message: expect.stringMatching(/edited/) } });
  });

  it('detects an edit that also recomputes the entry hash (the next entry no longer chains)', () => {
    const path = logWith(3);
    const l = lines(path).map((x) => JSON.parse(x));
    l[0].exitCode = 1;
    const { hash: _h, ...rest } = l[0];
    // Attacker recomputes entry 1's own hash but cannot fix entry 2 without rewriting the rest.
    l[0].hash = rehash(rest);
    writeFileSync(path, l.map((e) => JSON.stringify(e)).join('\n') + '\n');
    expect(verifyAuditLog(path)).toMatchObject({ ok: false, problem: { line: 2 } });
  });

  it('detects a removed entry', () => {
    const path = logWith(4);
    const l = lines(path);
    l.splice(2, 1);
    writeFileSync(path, l.join('\n') + '\n');
    expect(verifyAuditLog(path)).toMatchObject({ ok: false, problem: { line: 3, message: expect.stringMatching(/removed/) } });
  });

  it('detects reordered entries', () => {
    const path = logWith(4);
    const l = lines(path);
    [l[1], l[2]] = [l[2]!, l[1]!];
    writeFileSync(path, l.join('\n') + '\n');
    expect(verifyAuditLog(path)).toMatchObject({ ok: false, problem: { line: 2 } });
  });

  it('detects a line that is not JSON', () => {
    const path = logWith(2);
    writeFileSync(path, readFileSync(path, 'utf8') + '{oops\n');
    expect(verifyAuditLog(path)).toMatchObject({ ok: false, problem: { line: 3, message: 'not valid JSON' } });
  });

  it('holds only the fields it is given: digests and names, no free text besides the purpose', () => {
    const path = logWith(1);
    expect(Object.keys(JSON.parse(lines(path)[0]!)).sort()).toEqual(
      ['actor', 'command', 'exitCode', 'hash', 'inputs', 'outputs', 'prev', 'purpose', 'seq', 'time', 'toolVersion', 'verdict', 'version'].sort(),
    );
  });
});

function rehash(v: unknown): string {
  return sha256Hex(canonicalJson(v));
}
