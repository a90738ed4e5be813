/**
 * A minimal SVG plotting kit for the report's charts: linear and log10 axes, polylines, points,
 * reference lines and a legend. Output is static markup (no script, no external resources) so
 * the HTML report renders anywhere, offline.
 */

export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

export interface Axis {
  min: number;
  max: number;
  log?: boolean;
  label: string;
  /** Tick values; defaults to decades (log) or 5 even steps (linear). */
  ticks?: number[];
  tickLabel?: (v: number) => string;
}

export type Marker = 'circle' | 'square' | 'triangle' | 'diamond' | 'cross';

export interface Series {
  name: string;
  color: string;
  points: [number, number][];
  /** line (default), points, or both. */
  style?: 'line' | 'points' | 'both';
  dashed?: boolean;
  /** An SVG stroke-dasharray, so curves that coincide stay told apart (overrides `dashed`). */
  dash?: string;
  /** The point shape (points and both styles; default circle); a line series with a marker draws it at a few of its points. */
  marker?: Marker;
  /** Line width and marker radius (default 2 and 3): series drawn first can be wider, so one that coincides with a later one shows around it. */
  lineWidth?: number;
  markerRadius?: number;
}

/** One marker's markup, centred at (x, y). */
function markerSvg(shape: Marker, x: number, y: number, r: number): string {
  const [cx, cy] = [fmt(x), fmt(y)];
  switch (shape) {
    case 'circle':
      return `<circle cx="${cx}" cy="${cy}" r="${r}"/>`;
    case 'square':
      return `<rect x="${fmt(x - r)}" y="${fmt(y - r)}" width="${2 * r}" height="${2 * r}"/>`;
    case 'triangle':
      return `<path d="M${cx},${fmt(y - r * 1.2)}L${fmt(x + r * 1.1)},${fmt(y + r * 0.8)}L${fmt(x - r * 1.1)},${fmt(y + r * 0.8)}Z"/>`;
    case 'diamond':
      return `<path d="M${cx},${fmt(y - r * 1.3)}L${fmt(x + r * 1.1)},${cy}L${cx},${fmt(y + r * 1.3)}L${fmt(x - r * 1.1)},${cy}Z"/>`;
    case 'cross':
      return `<path d="M${fmt(x - r)},${fmt(y - r)}L${fmt(x + r)},${fmt(y + r)}M${fmt(x - r)},${fmt(y + r)}L${fmt(x + r)},${fmt(y - r)}" stroke-width="2"/>`;
  }
}

function dashOf(s: Series): string | undefined {
  return s.dash ?? (s.dashed ? '6 4' : undefined);
}

/** The points of a line series that carry its marker: at most `count`, spread along it. */
function markedPoints(pts: [number, number][], count: number): [number, number][] {
  if (pts.length <= count) return pts;
  return Array.from({ length: count }, (_, i) => pts[Math.round((i * (pts.length - 1)) / (count - 1))]!);
}

export interface ChartSpec {
  title: string;
  /** Text alternative for screen readers and for the Markdown report. */
  description: string;
  x: Axis;
  y: Axis;
  series: Series[];
  width?: number;
  height?: number;
}

const margin = { left: 62, right: 16, top: 34, bottom: 46 };

function scale(axis: Axis, length: number, invert: boolean): (v: number) => number {
  const f = axis.log ? Math.log10 : (v: number) => v;
  const lo = f(axis.min);
  const hi = f(axis.max);
  return (v: number) => {
    const clamped = Math.min(Math.max(v, axis.min), axis.max);
    const t = hi === lo ? 0.5 : (f(clamped) - lo) / (hi - lo);
    return invert ? length * (1 - t) : length * t;
  };
}

function defaultTicks(axis: Axis): number[] {
  if (axis.ticks) return axis.ticks;
  if (axis.log) {
    const out: number[] = [];
    for (let e = Math.ceil(Math.log10(axis.min) - 1e-9); e <= Math.floor(Math.log10(axis.max) + 1e-9); e++) out.push(10 ** e);
    return out;
  }
  // "Nice" steps (1, 2 or 5 times a power of ten), about five of them.
  const raw = (axis.max - axis.min) / 5;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((st) => st >= raw) ?? raw;
  const out: number[] = [];
  for (let v = Math.ceil(axis.min / step) * step; v <= axis.max + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

function defaultLabel(axis: Axis, v: number): string {
  if (axis.tickLabel) return axis.tickLabel(v);
  if (axis.log) return v >= 1 ? String(v) : v.toExponential(0).replace('e-', 'e−');
  return String(Number(v.toPrecision(3)));
}

const fmt = (v: number) => v.toFixed(1);

export function renderChart(spec: ChartSpec): string {
  const width = spec.width ?? 560;
  const plotHeight = spec.height ?? 340;
  // The legend sits below the plot, one line per series, so it never hides data.
  const height = plotHeight + 15 * spec.series.length + 6;
  const w = width - margin.left - margin.right;
  const h = plotHeight - margin.top - margin.bottom;
  const sx = scale(spec.x, w, false);
  const sy = scale(spec.y, h, true);
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img">`,
    `<title>${escapeXml(spec.title)}</title><desc>${escapeXml(spec.description)}</desc>`,
    `<text x="${width / 2}" y="20" text-anchor="middle" font-size="14" font-weight="600">${escapeXml(spec.title)}</text>`,
    `<g transform="translate(${margin.left},${margin.top})" font-size="11">`,
    `<rect width="${w}" height="${h}" fill="#fff" stroke="#999"/>`,
  );
  for (const t of defaultTicks(spec.x)) {
    const x = fmt(sx(t));
    parts.push(`<line x1="${x}" x2="${x}" y1="0" y2="${h}" stroke="#eee"/><text x="${x}" y="${h + 15}" text-anchor="middle">${escapeXml(defaultLabel(spec.x, t))}</text>`);
  }
  for (const t of defaultTicks(spec.y)) {
    const y = fmt(sy(t));
    parts.push(`<line x1="0" x2="${w}" y1="${y}" y2="${y}" stroke="#eee"/><text x="-6" y="${y}" dy="4" text-anchor="end">${escapeXml(defaultLabel(spec.y, t))}</text>`);
  }
  parts.push(
    `<text x="${w / 2}" y="${h + 34}" text-anchor="middle">${escapeXml(spec.x.label)}</text>`,
    `<text transform="translate(-46,${h / 2}) rotate(-90)" text-anchor="middle">${escapeXml(spec.y.label)}</text>`,
  );
  for (const s of spec.series) {
    const pts = s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
    if (pts.length === 0) continue;
    const style = s.style ?? 'line';
    const cls = `series`;
    const dash = dashOf(s);
    if (style !== 'points') {
      const d = pts.map(([x, y]) => `${fmt(sx(x))},${fmt(sy(y))}`).join(' ');
      parts.push(`<polyline class="${cls}" data-series="${escapeXml(s.name)}" points="${d}" fill="none" stroke="${s.color}" stroke-width="${s.lineWidth ?? 2}"${dash ? ` stroke-dasharray="${dash}"` : ''}/>`);
    }
    const marked = style === 'line' ? (s.marker ? markedPoints(pts, 8) : []) : pts;
    if (marked.length > 0) {
      parts.push(`<g class="${cls}" data-series="${escapeXml(s.name)}" fill="${s.color}" stroke="${s.color}" fill-opacity="0.75">`);
      for (const [x, y] of marked) parts.push(markerSvg(s.marker ?? 'circle', sx(x), sy(y), s.markerRadius ?? 3));
      parts.push('</g>');
    }
  }
  // Legend, below the x-axis label: each swatch drawn as its series is (colour, dashes, marker).
  spec.series.forEach((s, i) => {
    const y = h + 56 + i * 15;
    const dash = dashOf(s);
    const style = s.style ?? 'line';
    const line = style === 'points' ? '' : `<line x1="4" x2="30" y1="${y - 4}" y2="${y - 4}" stroke="${s.color}" stroke-width="2"${dash ? ` stroke-dasharray="${dash}"` : ''}/>`;
    const marker = style !== 'line' || s.marker ? `<g fill="${s.color}" stroke="${s.color}">${markerSvg(s.marker ?? 'circle', 17, y - 4, 3)}</g>` : '';
    parts.push(`<g class="legend-swatch" data-series="${escapeXml(s.name)}">${line}${marker}</g>`, `<text x="36" y="${y}">${escapeXml(s.name)}</text>`);
  });
  parts.push('</g></svg>');
  return parts.join('\n');
}
