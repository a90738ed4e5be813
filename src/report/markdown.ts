/** report.md: the report document as GitHub-flavoured Markdown (charts are described in text; see report.html). */
import { buildDocument, type Block } from './document.js';
import type { Report } from './types.js';

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

function block(b: Block): string {
  switch (b.kind) {
    case 'heading':
      return `${'#'.repeat(b.level)} ${b.text}`;
    case 'paragraph':
      return b.text;
    case 'table':
      return [`| ${b.header.map(cell).join(' | ')} |`, `| ${b.header.map(() => '---').join(' | ')} |`, ...b.rows.map((r) => `| ${r.map(cell).join(' | ')} |`)].join('\n');
    case 'chart':
      return `*Chart (in report.html): ${b.chart.title}.* ${b.chart.description}.`;
  }
}

export function renderMarkdown(report: Report): string {
  const doc = buildDocument(report);
  return [`# ${doc.title}`, ...doc.blocks.map(block)].join('\n\n') + '\n';
}
