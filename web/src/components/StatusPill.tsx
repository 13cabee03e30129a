import type { Destination } from '../api.js';

const LABELS: Record<Destination['status'], string> = {
  active: 'Active',
  idle: 'Idle',
  failing: 'Failing',
  disabled: 'Disabled',
};

/** Text plus a shape, never colour alone. The rule that picks the status lives in src/destinations/status.ts. */
export function StatusPill({ status }: { status: Destination['status'] }) {
  return (
    <span className={`pill pill-${status}`} data-status={status}>
      <span className="pill-dot" aria-hidden="true" />
      {LABELS[status]}
    </span>
  );
}
