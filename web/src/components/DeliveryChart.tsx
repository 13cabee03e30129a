import type { HourStat } from '../api.js';

/** 24 hourly bars: delivered (solid) stacked under failed (hatched colour). Plain inline SVG, no library. */
export function DeliveryChart({ hours }: { hours: HourStat[] | null }) {
  const width = 240;
  const height = 40;
  const data = hours ?? [];
  const delivered = data.reduce((s, h) => s + h.delivered, 0);
  const failed = data.reduce((s, h) => s + h.failed, 0);
  const max = Math.max(1, ...data.map((h) => h.delivered + h.failed));
  const slot = width / 24;
  const bar = Math.max(2, slot - 2);
  const summary = hours === null ? 'Loading the last 24 hours…' : `Last 24 hours: ${delivered} delivered, ${failed} failed`;
  return (
    <figure className="chart">
      <svg viewBox={`0 0 ${width} ${height}`} width="100%" height={height} role="img" aria-label={summary} preserveAspectRatio="none">
        <line x1="0" y1={height - 0.5} x2={width} y2={height - 0.5} className="chart-axis" />
        {Array.from({ length: 24 }, (_, i) => (
          <rect key={`track-${i}`} x={i * slot + (slot - bar) / 2} y={height - 3} width={bar} height={3} className="chart-track" />
        ))}
        {data.map((h, i) => {
          const dh = (h.delivered / max) * (height - 2);
          const fh = (h.failed / max) * (height - 2);
          const x = i * slot + (slot - bar) / 2;
          return (
            <g key={h.hour}>
              {h.delivered > 0 ? <rect x={x} y={height - dh} width={bar} height={dh} className="chart-delivered" /> : null}
              {h.failed > 0 ? <rect x={x} y={height - dh - fh} width={bar} height={fh} className="chart-failed" /> : null}
            </g>
          );
        })}
      </svg>
      <figcaption className="chart-legend">
        <span>
          <span className="swatch swatch-delivered" aria-hidden="true" /> {delivered} delivered
        </span>
        <span>
          <span className="swatch swatch-failed" aria-hidden="true" /> {failed} failed
        </span>
        <span className="muted">last 24 h</span>
      </figcaption>
    </figure>
  );
}
