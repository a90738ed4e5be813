import { describe, expect, it } from 'vitest';
import { parse } from 'node-html-parser';
import { buildReport, readReport, serializeReport } from '../../src/report/assemble.js';
import { renderHtml } from '../../src/report/html.js';
import { renderMarkdown } from '../../src/report/markdown.js';
import { show } from '../../src/report/document.js';
import { assertNoCanaryInOutputs, assertNoCanaryText } from '../../src/report/phi-guard.js';
import { attestStatement } from '../../src/attest/attestation.js';
import { InputError } from '../../src/core/errors.js';
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
    // Epsilon over steps from the ledger's history, with the policy ceiling and the dp-audit's empirical lower bound.
    expect(root.querySelectorAll('#chart-epsilon polyline').map((p) => p.getAttribute('data-series'))).toEqual([
      'epsilon (RDP accountant)',
      'policy ceiling (3)',
      'empirical lower bound (dp-audit, 0.999 confidence): 0.3',
    ]);
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

  it('records the manifest signature and role check in report.json, report.md and the attestation; older reports without them still read', () => {
    const e = cleanEvidence();
    const keyid = '1'.repeat(64);
    const manifestIntegrity = { signature: { status: 'verified' as const, keyid }, roles: { status: 'verified' as const, data: 'train.jsonl', dataSha256: '2'.repeat(64) } };
    const { report } = buildReport({ ...e, target, backend: 'wasm', seed: '7', startedAt: '2025-01-01T00:00:00.000Z', finishedAt: '2025-01-01T00:02:00.000Z', manifestIntegrity }, defaultPolicy());
    const dir = tempDir();
    writeFileSync(join(dir, 'report.json'), serializeReport(report));
    expect(readReport(join(dir, 'report.json')).manifestIntegrity).toEqual(manifestIntegrity);
    expect(renderMarkdown(report)).toContain(`| manifest signature | signed, verified with a trusted key, keyid ${keyid} |`);
    expect(renderMarkdown(report)).toMatch(/\| manifest roles \| checked against train.jsonl \(sha256 2{64}\)/);
    expect(privacyAuditStatement(report, 'a'.repeat(64), null).predicate.manifestIntegrity).toEqual(manifestIntegrity);
    const unchecked = buildReport({ ...e, target, backend: 'wasm', seed: '7', startedAt: '2025-01-01T00:00:00.000Z', finishedAt: '2025-01-01T00:02:00.000Z', manifestIntegrity: { signature: { status: 'unsigned', keyid: null }, roles: { status: 'not-checked', data: null, dataSha256: null } } }, defaultPolicy()).report;
    expect(renderMarkdown(unchecked)).toContain('| manifest signature | unsigned |');
    expect(renderMarkdown(unchecked)).toContain('| manifest roles | not checked against the training data (pass --data) |');
    const { manifestIntegrity: _none, ...older } = report;
    writeFileSync(join(dir, 'older.json'), serializeReport(older as typeof report));
    expect(readReport(join(dir, 'older.json')).manifestIntegrity).toBeUndefined();
    expect(privacyAuditStatement(older as typeof report, 'a'.repeat(64), null).predicate.manifestIntegrity).toBeNull();
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
    expect(() => assertNoCanaryText('"generation": "SSN 123-45-6789"', manifest, 'report.json')).toThrow(InputError);
    expect(() => assertNoCanaryText('"generation": "SSN 123-45-6789"', manifest, 'report.json')).toThrow(/canary c1/);
    const dir = join(tempDir(), 'run');
    await expect(writeRunFiles(dir, [{ name: 'a.json', content: '{}' }, { name: 'b.md', content: 'leak 123-45-6789' }], manifest)).rejects.toThrow(/b.md/);
    expect(existsSync(dir) ? readdirSync(dir) : []).toEqual([]);
  });

  describe('the no-PHI guard checks text, not figures', () => {
    const pin = (id: string, secret: string, role: 'inserted' | 'reference') => ({ id, secret, text: `My PIN code is ${secret}.`, prefix: 'My PIN code is ', suffix: '.', format: 'digits', role, repetitions: role === 'inserted' ? 4 : 0 });
    /** A real run's four outputs: report.json, .md, .html and the attestation envelope. */
    function runFiles(report: ReturnType<typeof phiReport>['report']) {
      const json = serializeReport(report);
      const envelope = attestStatement(privacyAuditStatement(report, 'a'.repeat(64), null), null).envelope;
      return [
        { name: 'report.json', content: json },
        { name: 'report.md', content: renderMarkdown(report) },
        { name: 'report.html', content: renderHtml(report) },
        { name: 'attestation.dsse.json', content: JSON.stringify(envelope, null, 2) },
      ];
    }
    /** The report with a figure that equals a reference PIN by chance (as a rank among 10^6 candidates would). */
    function reportWithFigure(figure: number) {
      const { report } = phiReport();
      const extraction = report.results.extraction as unknown as { untargeted: { samples: number } };
      extraction.untargeted.samples = figure;
      return report;
    }
    it('a reference secret that equals a count or rank in the report does not stop the report from being written', async () => {
      const number = '271828';
      const report = reportWithFigure(Number(number));
      const manifest = { canaries: [pin('c1', '314159', 'inserted'), pin('c2', number, 'reference')] } as unknown as Manifest;
      const files = runFiles(report);
      for (const f of files.slice(0, 3)) expect(f.content, f.name).toMatch(/(?<![0-9])271828(?![0-9])/);
      const dir = join(tempDir(), 'run');
      await writeRunFiles(dir, files, manifest);
      expect(readdirSync(dir).sort()).toEqual(['attestation.dsse.json', 'report.html', 'report.json', 'report.md']);
    });

    it('a secret equal to a figure as the Markdown rounds it (4 significant digits) is not a hit either', () => {
      const manifest = { canaries: [pin('c1', '123500', 'reference')] } as unknown as Manifest;
      const files = [
        { name: 'report.json', content: JSON.stringify({ canaries: [{ id: 'c9', rank: 123456 }] }) },
        { name: 'report.md', content: `| c9 | ${show(123456)} |` },
      ];
      expect(files[1]!.content).toBe('| c9 | 123500 |');
      expect(() => assertNoCanaryInOutputs(files, manifest)).not.toThrow();
      expect(() => assertNoCanaryInOutputs([files[1]!], manifest)).toThrow(/report.md: .*canary c1/);
    });

    it('still refuses a secret or canary text planted in a string field of any output, the attestation payload included, and writes nothing', async () => {
      const number = '271828';
      const report = reportWithFigure(Number(number));
      const manifest = { canaries: [pin('c1', '314159', 'inserted'), pin('c2', number, 'reference')] } as unknown as Manifest;
      const leaks: [string, (r: typeof report) => void, RegExp][] = [
        ['a secret in a reason message', (r) => (r.verdict.reasons[0]!.message += ' generated 314159'), /report.json: .*canary c1/],
        ['a secret in the target name', (r) => (r.target.target = '/models/PIN 314159'), /report.json: .*canary c1/],
        ['the text of the canary whose secret equals a count', (r) => (r.target.target = `My PIN code is ${number}.`), /report.json: .*canary c2/],
      ];
      for (const [what, plant, message] of leaks) {
        const leaked = structuredClone(report);
        plant(leaked);
        const dir = join(tempDir(), 'run');
        const error = await writeRunFiles(dir, runFiles(leaked), manifest).catch((e: Error) => e);
        expect(error, what).toBeInstanceOf(InputError);
        expect((error as Error).message, what).toMatch(message);
        expect((error as Error).message, what).not.toContain('314159');
        expect(existsSync(dir) ? readdirSync(dir) : [], what).toEqual([]);
      }
      // Only in the signed statement (base64 in the envelope): still found.
      const statement = privacyAuditStatement(report, 'a'.repeat(64), null);
      (statement.predicate as unknown as Record<string, unknown>).note = 'My PIN code is 314159.';
      const envelope = JSON.stringify(attestStatement(statement, null).envelope);
      expect(envelope).not.toContain('314159');
      expect(() => assertNoCanaryInOutputs([{ name: 'attestation.dsse.json', content: envelope }], manifest)).toThrow(/attestation.dsse.json: .*canary c1/);
    });
  });
});
