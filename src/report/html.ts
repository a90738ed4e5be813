/**
 * report.html: one self-contained file (inline CSS and inline SVG charts; no script, no network)
 * so it can be filed with compliance and opened anywhere.
 */
import { buildDocument, type Block } from './document.js';
import { escapeXml as esc } from './svg.js';
import type { Report } from './types.js';

const css = `
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2em auto;max-width:1100px;padding:0 1em;color:#222}
h1{font-size:1.6em}h2{margin-top:1.8em;border-bottom:1px solid #ddd;padding-bottom:.2em}
table{border-collapse:collapse;margin:.6em 0;width:100%;table-layout:auto}
th,td{border:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top;overflow-wrap:normal;word-break:normal;hyphens:none}
th{background:#f5f5f5;white-space:nowrap}
td:first-child,td.short{white-space:nowrap}td:last-child{min-width:18em}
code{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.92em;background:#f3f3f3;padding:0 .2em}
.digest{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.92em;word-break:break-all}
.verdict{font-size:1.2em;font-weight:600;padding:.6em 1em;border-radius:6px}
.PHI{background:#fde2e1;color:#8a1c13}.NOT_PHI{background:#e2f5e4;color:#1b5e20}.INCONCLUSIVE{background:#fff4d6;color:#7a5600}
figure{margin:1em 0}figcaption{font-size:.9em;color:#555;max-width:560px}svg.chart{max-width:100%;height:auto}
@media print{
body{margin:0;max-width:none;font-size:10pt}
.verdict,th{-webkit-print-color-adjust:exact;print-color-adjust:exact}
h2{break-after:avoid}tr,figure{break-inside:avoid}thead{display:table-header-group}
}
`;

/** A cell's text, escaped, with digests (long hex runs) set apart: they may break anywhere, words never do. */
function cellHtml(text: string): string {
  return esc(text).replace(/\b[0-9a-f]{32,}\b/g, (hex) => `<span class="digest">${hex}</span>`);
}

/** A cell; a short one (a value, a comparison such as "<= 0.05") or one name ("tprAtFpr0.001:min-k") stays on one line. */
function cell(text: string): string {
  const short = text.length <= 16 || (text.length <= 40 && !/\s/.test(text));
  return short ? `<td class="short">${cellHtml(text)}</td>` : `<td>${cellHtml(text)}</td>`;
}

/** Paragraph text, escaped, with `commands` set as code. */
function paragraphHtml(text: string): string {
  return esc(text).replace(/`([^`]+)`/g, '<code>$1</code>');
}

function block(b: Block): string {
  switch (b.kind) {
    case 'heading':
      return `<h${b.level}>${esc(b.text)}</h${b.level}>`;
    case 'paragraph':
      return `<p>${paragraphHtml(b.text)}</p>`;
    case 'table':
      return `<table><thead><tr>${b.header.map((c) => `<th>${esc(c)}</th>`).join('')}</tr></thead><tbody>${b.rows
        .map((r) => `<tr>${r.map(cell).join('')}</tr>`)
        .join('\n')}</tbody></table>`;
    case 'chart':
      return `<figure id="chart-${b.chart.id}">${b.chart.svg}<figcaption>${esc(b.chart.description)}</figcaption></figure>`;
  }
}

export function renderHtml(report: Report): string {
  const doc = buildDocument(report);
  const [headline, ...rest] = doc.blocks;
  const headlineHtml = headline && headline.kind === 'paragraph' ? `<p class="verdict ${doc.verdict}">${esc(headline.text)}</p>` : '';
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>${esc(doc.title)}</title><style>${css}</style></head>
<body><h1>${esc(doc.title)}</h1>
${headlineHtml}
${rest.map(block).join('\n')}
</body></html>
`;
}
