import { useCallback, useEffect, useRef, useState } from 'react';
import { errorText, signedOutBy, type CardStats, type Destination, type DestinationsApi } from './api.js';

/**
 * The SIEM Forwarding page's data: the destinations, their cards' charts and the replays the cards
 * follow, loaded now and every 15 s while the tab is visible. A 401 hands over to `onSignedOut`.
 */
export function useDestinations(api: DestinationsApi, onSignedOut: () => void) {
  const [destinations, setDestinations] = useState<Destination[] | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  // Background replays started from this page (Send history, Replay a time range): the card follows each.
  const [replays, setReplays] = useState<Record<string, string>>({});
  const followReplay = useCallback((destinationId: string, replayId: string) => setReplays((r) => ({ ...r, [destinationId]: replayId })), []);
  const [stats, setStats] = useState<Map<string, CardStats> | null>(null);

  // Refreshes overlap (the 15 s tick, a dialog's change, a click): only the latest one started may set
  // the cards, or a slow earlier answer would bring back a state from before the change (e.g. Disabled
  // just after Done enabled the destination).
  const refreshGeneration = useRef(0);
  const refresh = useCallback(async () => {
    const generation = ++refreshGeneration.current;
    try {
      // The cards' charts and running replays come in one request per page of destinations, beside the list itself.
      const [list, charts] = await Promise.all([api.list(), api.allStats().catch(() => new Map<string, CardStats>())]);
      if (generation !== refreshGeneration.current) return;
      setDestinations(list);
      setStats(charts);
      // A replay running when the page looked (started from the API, the CLI or another tab) is
      // followed like one started here, until it ends and after (its card shows how it ended); a newer
      // one running takes its place.
      const running = [...charts].filter(([, s]) => s.running_replay_id !== null);
      if (running.length > 0) {
        setReplays((r) => {
          const fresh = running.filter(([id, s]) => r[id] !== s.running_replay_id);
          return fresh.length === 0 ? r : { ...r, ...Object.fromEntries(fresh.map(([id, s]) => [id, s.running_replay_id!])) };
        });
      }
      setLoadError(null);
    } catch (e) {
      if (signedOutBy(e)) onSignedOut();
      else if (generation === refreshGeneration.current) setLoadError(errorText(e));
    }
  }, [api, onSignedOut]);

  useEffect(() => {
    void refresh();
    const t = window.setInterval(() => {
      if (document.visibilityState === 'visible') void refresh();
    }, 15_000);
    return () => window.clearInterval(t);
  }, [refresh]);

  return { destinations, stats, loadError, replays, followReplay, refresh };
}
