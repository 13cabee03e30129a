import type { HourStat } from '../api.js';
import { plural } from '../format.js';

/**
 * 24 hourly bars: delivered events (solid) stacked under failed tries (hatched colour). Plain inline
 * SVG, no library. A failed try is one event in one request that did not get through: it is retried,
 * so an event can count several times here and still be delivered. Only events that run out of
 * retries are dead-lettered (the card's "Dead-lettered events"); the two counts are named apart.
 */
export function DeliveryChart({ hours }: { hours: HourStat[] | null }) {
  const width = 240;
  const height = 40;
  const data = hours ?? [];
  const delivered = data.reduce((s, h) => s + h.delivered, 0);
  const failed = data.reduce((s, h) => s + h.failed, 0);
  const max = Math.max(1, ...data.map((h) => h.delivered + h.failed));
  const slot = width / 24;
  const bar = Math.max(2, slot - 2);
  const summary =
    hours === null
      ? 'Loading the last 24 hours…'
      : `Last 24 hours: ${plural(delivered, 'event')} delivered, ${plural(failed, 'failed try', 'failed tries')} (retried; events out of retries are dead-lettered)`;
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
        <span title="Delivery tries that failed. Each is retried; only events that run out of retries are dead-lettered.">
          <span className="swatch swatch-failed" aria-hidden="true" /> {plural(failed, 'failed try', 'failed tries')}
        </span>
        <span className="muted">last 24 h</span>
      </figcaption>
    </figure>
  );
}
