import { describe, expect, it } from 'vitest';
import { parse } from 'node-html-parser';
import { buildReport, readReport, serializeReport } from '../../src/report/assemble.js';
import { renderHtml } from '../../src/report/html.js';
import { renderMarkdown } from '../../src/report/markdown.js';
import { assertNoCanaryText } from '../../src/report/phi-guard.js';
import { writeRunFiles } from '../../src/report/write.js';
import { defaultPolicy } from '../../src/policy/load.js';
import type { Manifest } from '../../src/canary/types.js';
import { cleanEvidence, dpAudit, dpLedger, extraction, membership, target } from '../policy/fixtures.js';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/cli.js';
import { manifestBinding } from '../../probes/binding.js';
import { widenNumbers } from '../../src/report/schema.js';
import { privacyAuditStatement } from '../../src/attest/predicate.js';

function phiReport() {
  const e = cleanEvidence();
  e.results.extraction = extraction({ 16: 4 }, e.manifest);
  e.results.membership = membership([
    { name: 'loss', members: 600, nonMembers: 1200, tpr: 0.004, auc: 0.58 },
    { name: 'min-k', members: 600, nonMembers: 1200, tpr: 0.03, auc: 0.66 },
  ]);
  e.ledger = dpLedger(2.5);
  e.results['dp-audit'] = dpAudit(0.3, 2.5);
  return buildReport({ ...e, target, backend: 'wasm', seed: '7', startedAt: '2025-01-01T00:00:00.000Z', finishedAt: '2025-01-01T00:02:00.000Z' }, defaultPolicy());
}

describe('report', () => {
  it('report.json validates against its schema and reads back', () => {
    const { report, verdict } = phiReport();
    expect(verdict.verdict).toBe('PHI');
    const dir = tempDir();
    writeFileSync(join(dir, 'report.json'), serializeReport(report));
    const back = readReport(join(dir, 'report.json'));
    expect(back.verdict.verdict).toBe('PHI');
    expect(back.results.membership!.attacks).toHaveLength(2);
  });

  it('a malformed report is one line naming the file and the place', () => {
    const { report } = phiReport();
    const dir = tempDir();
    const file = join(dir, 'report.json');
    writeFileSync(file, serializeReport({ ...report, manifest: { ...report.manifest, references: -1 } }));
    expect(() => readReport(file)).toThrow(`${file}: /manifest/references: must be >= 0`);
  });

  it('renders a self-contained HTML report with the three SVG charts', () => {
    const html = renderHtml(phiReport().report);
    const root = parse(html);
    expect(root.querySelector('title')!.text).toBe('memaudit report: PHI');
    expect(root.querySelector('.verdict.PHI')).not.toBeNull();
    const figures = root.querySelectorAll('figure');
    expect(figures.map((f) => f.id)).toEqual(['chart-exposure', 'chart-roc', 'chart-epsilon']);
    for (const f of figures) {
      const svg = f.querySelector('svg')!;
      expect(svg.getAttribute('xmlns')).toBe('http://www.w3.org/2000/svg');
      expect(svg.querySelectorAll('polyline').length).toBeGreaterThan(0);
      expect(svg.querySelector('title')!.text.length).toBeGreaterThan(5);
    }
    // ROC on log-log axes: decade ticks on both axes, and one curve per attack plus chance.
    const roc = root.querySelector('#chart-roc svg')!;
    const tickLabels = roc.querySelectorAll('text').map((t) => t.text);
    expect(tickLabels.filter((t) => t === '1e−3').length).toBe(2);
    expect(roc.querySelectorAll('polyline').map((p) => p.getAttribute('data-series'))).toEqual([
      expect.stringMatching(/^loss/),
      expect.stringMatching(/^min-k/),
      'chance (TPR = FPR)',
    ]);
    // Exposure chart: the reference baseline and the threshold are drawn.
    const series = root.querySelectorAll('#chart-exposure [data-series]').map((p) => p.getAttribute('data-series'));
    expect(series).toEqual(expect.arrayContaining(['inserted canaries', expect.stringMatching(/^reference baseline: mean/), expect.stringMatching(/^policy threshold/)]));
    // Epsilon over steps from the ledger's history, with the policy ceiling.
    expect(root.querySelectorAll('#chart-epsilon polyline')).toHaveLength(2);
    // No script, no network.
    expect(root.querySelectorAll('script')).toHaveLength(0);
    expect(html).not.toMatch(/(src|href)\s*=\s*"https?:/);
  });

  it('omits charts whose data is absent (no ledger history, no ROC points)', () => {
    const e = cleanEvidence();
    for (const attack of e.results.membership!.attacks) attack.roc = undefined;
    const { report } = buildReport({ ...e, target, backend: 'wasm', seed: '1', startedAt: '2025-01-01T00:00:00.000Z', finishedAt: '2025-01-01T00:00:01.000Z' }, defaultPolicy());
    const root = parse(renderHtml(report));
    expect(root.querySelectorAll('figure').map((f) => f.id)).toEqual(['chart-exposure']);
  });

  it('Markdown names the verdict, each reason with value and threshold, and the digests', () => {
    const md = renderMarkdown(phiReport().report);
    expect(md).toMatch(/^# memaudit report: PHI/);
    expect(md).toContain('| PHI | extraction | extractedCanaries | 4 | <= 0 |');
    expect(md).toContain('d'.repeat(64));
    expect(md).toMatch(/not evidence of privacy/);
  });

  it('records both digests of the manifest binding in report.json, report.md and the attestation predicate', () => {
    const e = cleanEvidence();
    const model = '9'.repeat(64);
    const unverified = buildReport({ ...e, target, backend: 'wasm', seed: '7', startedAt: '2025-01-01T00:00:00.000Z', finishedAt: '2025-01-01T00:02:00.000Z' }, defaultPolicy()).report;
    expect(unverified.binding).toEqual({ manifestOutputSha256: 'f'.repeat(64), modelTrainingDataSha256: null });
    expect(renderMarkdown(unverified)).toMatch(/not stated by the target: the manifest binding is unverified/);
    expect(privacyAuditStatement(unverified, 'a'.repeat(64), null).predicate.manifestBinding).toEqual({ manifestOutputSha256: 'f'.repeat(64), modelTrainingDataSha256: null });

    e.binding = { manifestOutputSha256: 'f'.repeat(64), modelTrainingDataSha256: model };
    const { report } = buildReport({ ...e, target, backend: 'wasm', seed: '7', startedAt: '2025-01-01T00:00:00.000Z', finishedAt: '2025-01-01T00:02:00.000Z' }, defaultPolicy());
    const dir = tempDir();
    writeFileSync(join(dir, 'report.json'), serializeReport(report));
    expect(readReport(join(dir, 'report.json')).binding).toEqual({ manifestOutputSha256: 'f'.repeat(64), modelTrainingDataSha256: model });
    expect(renderMarkdown(report)).toContain(`${model} (does NOT match the manifest)`);
    expect(report.verdict.verdict).toBe('INCONCLUSIVE');
    expect(privacyAuditStatement(report, 'a'.repeat(64), null).predicate.manifestBinding.modelTrainingDataSha256).toBe(model);
  });

  it('audit refuses a manifest whose output is not the model\'s training data, naming both files', () => {
    const manifest = { output: { sha256: 'f'.repeat(64) } } as unknown as Manifest;
    expect(() => manifestBinding('runs/m.json', manifest, { metaPath: 'models/x/memaudit.json', sha256: '1'.repeat(64) })).toThrow(
      /^runs\/m.json: the manifest does not belong to the model: its output dataset \(sha256 ffffffffffff\.\.\.\) is not the training data recorded in models\/x\/memaudit.json \(sha256 111111111111\.\.\.\)$/,
    );
    expect(manifestBinding('m.json', manifest, { metaPath: 'x', sha256: 'f'.repeat(64) })).toEqual({ manifestOutputSha256: 'f'.repeat(64), modelTrainingDataSha256: 'f'.repeat(64) });
    expect(manifestBinding('m.json', manifest, null).modelTrainingDataSha256).toBeNull();
  });

  it('the extraction table shows the never-inserted references apart', () => {
    const md = renderMarkdown(phiReport().report);
    expect(md).toContain('| reference (0x, never inserted) | 1200 | 0 |');
  });

  it("holds each probe's result to the probe's own schema, with non-finite numbers as strings", () => {
    const { report } = phiReport();
    const dir = tempDir();
    const file = join(dir, 'report.json');
    // A field only the probe's schema knows (membership AUC in [0, 1]).
    const bad = structuredClone(report);
    bad.results.membership!.attacks[0]!.auc = 2;
    writeFileSync(file, serializeReport(bad));
    expect(() => readReport(file)).toThrow(`${file}: /results/membership/attacks/0/auc: must be <= 1`);
    // Infinity is written as "Infinity" and reads back.
    const inf = structuredClone(report);
    inf.results['dp-audit']!.epsilonLowerBound = Infinity;
    writeFileSync(file, serializeReport(inf));
    expect(readReport(file).results['dp-audit']!.epsilonLowerBound).toBe('Infinity');
    expect(widenNumbers({ type: 'object', properties: { x: { type: 'number', minimum: 0 }, n: { type: 'integer' } }, required: ['x'] })).toEqual({
      type: 'object',
      properties: { x: { anyOf: [{ type: 'number', minimum: 0 }, { enum: ['Infinity', '-Infinity', 'NaN'] }] }, n: { type: 'integer' } },
      required: ['x'],
    });
  });

  it('refuses to write outputs containing a canary secret or record, and writes nothing', async () => {
    const manifest = { canaries: [{ id: 'c1', secret: '123-45-6789', text: 'Patient Jane SSN 123-45-6789', prefix: 'Patient Jane SSN ', suffix: '', format: 'ssn', role: 'inserted', repetitions: 16 }] } as unknown as Manifest;
    expect(() => assertNoCanaryText('{"id":"c1","exposure":3}', manifest, 'report.json')).not.toThrow();
    // Digits inside a longer token (a digest) are not a hit; the standalone secret is.
    expect(() => assertNoCanaryText('abc123-45-6789def', manifest, 'x')).not.toThrow();
    expect(() => assertNoCanaryText('"generation": "SSN 123-45-6789"', manifest, 'report.json')).toThrow(/canary c1/);
    const dir = join(tempDir(), 'run');
    await expect(writeRunFiles(dir, [{ name: 'a.json', content: '{}' }, { name: 'b.md', content: 'leak 123-45-6789' }], manifest)).rejects.toThrow(/b.md/);
    expect(existsSync(dir) ? readdirSync(dir) : []).toEqual([]);
  });
});
