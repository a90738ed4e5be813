/** What release pipelines read besides the exit code: JUnit XML and GitHub Actions annotations. */
import type { Reason, Verdict } from '../policy/verdict.js';
import { escapeXml } from './svg.js';

/**
 * JUnit XML: one test case per check. PHI and INCONCLUSIVE checks are failures (both stop a
 * release: the weights stay PHI until cleared), passes and notes pass, notes keep their text.
 */
export function renderJunit(verdict: Pick<Verdict, 'verdict' | 'checks' | 'policy'>, reportPath: string): string {
  const cases = verdict.checks.map((c) => {
    const name = `${c.probe}: ${c.metric}`;
    const body =
      c.outcome === 'PHI' || c.outcome === 'INCONCLUSIVE'
        ? `<failure type="${c.outcome}" message="${escapeXml(c.message)}">${escapeXml(`value ${c.value} threshold ${c.comparator ?? ''} ${c.threshold}`)}</failure>`
        : `<system-out>${escapeXml(c.message)}</system-out>`;
    return `    <testcase classname="memaudit.${escapeXml(c.probe)}" name="${escapeXml(name)}">${body}</testcase>`;
  });
  const failures = verdict.checks.filter((c) => c.outcome === 'PHI' || c.outcome === 'INCONCLUSIVE').length;
  return `<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="memaudit gate" tests="${verdict.checks.length}" failures="${failures}">
  <testsuite name="memaudit gate: ${escapeXml(verdict.verdict)} (policy ${escapeXml(verdict.policy.name)})" tests="${verdict.checks.length}" failures="${failures}" errors="0" skipped="0">
    <properties><property name="report" value="${escapeXml(reportPath)}"/><property name="verdict" value="${verdict.verdict}"/><property name="policyDigest" value="${verdict.policy.digest}"/></properties>
${cases.join('\n')}
  </testsuite>
</testsuites>
`;
}

/** Workflow-command escaping (actions/toolkit: data escapes %, CR, LF; properties also : and ,). */
function escapeData(s: string): string {
  return s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}
function escapeProperty(s: string): string {
  return escapeData(s).replace(/:/g, '%3A').replace(/,/g, '%2C');
}

/** `::error` lines for the reasons a gate fails on (none for NOT_PHI), pointing at the report file. */
export function githubAnnotations(verdict: Pick<Verdict, 'verdict' | 'reasons'>, reportPath: string): string[] {
  if (verdict.verdict === 'NOT_PHI') return [];
  return verdict.reasons.map((r: Reason) => `::error file=${escapeProperty(reportPath)},title=${escapeProperty(`memaudit ${verdict.verdict}: ${r.probe} ${r.metric}`)}::${escapeData(r.message)}`);
}
