import type { Db } from '../db/types.js';
import type { DiskRoom } from '../db/diskRoom.js';
import type { Config } from '../config/env.js';
import type { KeyRing } from '../crypto/keyring.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import type { DeliveryDeps } from '../delivery/deliverBatch.js';
import type { FilterRouter } from '../filters/router.js';
import type { BacklogLane } from '../destinations/backlogLane.js';

/** What the HTTP layer needs from the rest of the service, assembled once in src/service.ts. */
export interface AppContext {
  db: Db;
  config: Config;
  keyRing: KeyRing;
  logger: Logger;
  metrics: Metrics;
  delivery: DeliveryDeps;
  /** Tells workers (this process and others, via NOTIFY) that there may be work. */
  wakeWorkers: () => void;
  /**
   * After recordEvents: its statement already NOTIFYs other processes on commit, so only a worker in
   * this process (if any) is woken, directly. A second NOTIFY would be a second transaction per request.
   */
  wakeLocalWorker: () => void;
  /** A background range replay was accepted: a replay runner in this process (if any) looks now. */
  wakeReplays: () => void;
  /**
   * Destination filters compiled once per service and shared by everything that records events (API
   * ingest and the configuration trail), so a change recorded under its organization's lock does not
   * compile the organization's filters again.
   */
  filterRouter: FilterRouter;
  /** Where deletes clear their destinations' backlogs after answering (destinations/backlogLane.ts). */
  backlog: BacklogLane;
  /** The embedded database's disk, when ingest is refused below a floor (db/diskRoom.ts); else null. */
  diskRoom: DiskRoom | null;
  /** Serves the built dashboard when present. */
  webRoot: string | null;
  /** False for a worker-only process: it serves health and metrics, not the REST API. */
  apiEnabled: boolean;
}
