import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { QUEUE_COUNT_CAP as SERVER_CAP } from '../../../src/queue/countCap.js';
import { DestinationView } from '../../../src/api/schemas/destinations.js';
import { FailedEventsPage } from '../../../src/api/schemas/destinationReads.js';
import type { Destination, DestinationsApi } from '../api.js';
import { queueCount, queuePlural } from '../format.js';
import { DestinationCard } from './DestinationCard.js';

const destination = (over: Partial<Destination>): Destination => ({
  destination_id: 'fwd_card',
  name: 'Splunk prod',
  url: 'https://splunk.example.com:8088/services/collector/event',
  auth_header_name: 'Authorization',
  auth_header_configured: true,
  enabled: true,
  created_at: '2026-11-30T08:00:00.000Z',
  updated_at: '2026-11-30T08:00:00.000Z',
  siem: 'splunk_hec',
  format: 'ecs',
  status: 'active',
  last_delivery_at: null,
  last_error: null,
  last_error_at: null,
  last_test_delivered_at: null,
  options: {},
  delivery_limits: { max_events_per_second: 100, max_concurrent_requests: 4 },
  filter: null,
  signing_enabled: false,
  auth: null,
  previous_signing_secret_until: null,
  pending_events: 0,
  oldest_pending_at: null,
  failed_events: 0,
  paused_until: null,
  paused_reason: null,
  failing_since: null,
  hold_limit_at: null,
  ...over,
});

/** The card's text, as a reader sees it (tags dropped). */
function cardText(d: Destination): string {
  const noop = () => undefined;
  const html = renderToStaticMarkup(
    createElement(DestinationCard, {
      api: {} as DestinationsApi,
      destination: d,
      hours: null,
      editHref: '/edit',
      onEdit: noop,
      logHref: () => '/log',
      onOpenLog: noop,
      onResume: noop,
      onToggle: noop,
      onFailedEvents: noop,
      onDelete: noop,
      onReplayRange: noop,
      replayId: null,
      onReplayFinished: noop,
      busy: false,
    }),
  );
  return html
    .replace(/<[^>]+>/g, '')
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ');
}

describe('queue counts on the card: the API stops counting at the cap', () => {
  it('the API descriptions state the cap', () => {
    const atLeast = `${SERVER_CAP.toLocaleString('en-US')}: ${SERVER_CAP} means "at least ${SERVER_CAP.toLocaleString('en-US')}"`;
    const description = (schema: object) => (schema as { description?: string }).description;
    expect(description(DestinationView.properties.pending_events)).toContain(atLeast);
    expect(description(DestinationView.properties.failed_events)).toContain(atLeast);
    expect(description(FailedEventsPage.properties.total)).toContain(atLeast);
  });

  it('says "10,000+" for a count at the cap, and the number below it', () => {
    expect(queueCount(SERVER_CAP)).toBe('10,000+');
    expect(queueCount(SERVER_CAP - 1)).toBe(String(SERVER_CAP - 1));
    expect(queuePlural(SERVER_CAP, 'queued event')).toBe('10,000+ queued events');
    expect(queuePlural(1, 'event')).toBe('1 event');
    expect(queuePlural(3, 'event')).toBe('3 events');
  });

  it('shows a backlog at the cap as "10,000+ events queued" and "Dead-lettered events (10,000+)"', () => {
    const text = cardText(destination({ pending_events: SERVER_CAP, oldest_pending_at: null, failed_events: SERVER_CAP }));
    expect(text).toContain('10,000+ events queued');
    expect(text).toContain('Dead-lettered events (10,000+)');
    expect(text).not.toContain(`${SERVER_CAP} events`);
  });

  it('offers to resume and replay "10,000+ events" for a held destination at the cap', () => {
    const text = cardText(
      destination({
        status: 'failing',
        last_error: 'HTTP 503',
        last_error_at: '2026-11-30T09:00:00.000Z',
        failing_since: '2026-11-29T09:00:00.000Z',
        paused_reason: 'hold_limit',
        failed_events: SERVER_CAP,
      }),
    );
    expect(text).toContain('Resume & replay 10,000+ events');
  });

  it('shows exact counts below the cap', () => {
    const text = cardText(destination({ pending_events: 3, failed_events: 2 }));
    expect(text).toContain('3 events queued');
    expect(text).toContain('Dead-lettered events (2)');
  });
});

describe('the last error on a card that is not failing', () => {
  const error = 'HTTP 401: Authentication failed — check the token';
  it('shows it while nothing got through after it', () => {
    const text = cardText(destination({ status: 'idle', last_error: error, last_error_at: '2026-12-06T17:00:00.000Z' }));
    expect(text).toContain('Last error');
    expect(text).toContain(error);
  });
  it('shows the test that got through after it instead: the user fixed the destination', () => {
    const text = cardText(
      destination({ status: 'idle', last_error: error, last_error_at: '2026-12-06T17:00:00.000Z', last_test_delivered_at: '2026-12-06T17:05:00.000Z' }),
    );
    expect(text).not.toContain(error);
    expect(text).toContain('Test delivered');
  });
  it('shows the delivery after it instead', () => {
    const text = cardText(
      destination({ status: 'active', last_error: error, last_error_at: '2026-12-06T17:00:00.000Z', last_delivery_at: '2026-12-06T17:05:00.000Z' }),
    );
    expect(text).not.toContain(error);
    expect(text).toContain('Last delivery');
  });
});
