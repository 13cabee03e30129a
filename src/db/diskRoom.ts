import { statfs } from 'node:fs/promises';
import type { Logger } from 'pino';

/**
 * How much room the embedded database's disk has, read every few seconds. PGlite refuses a write that
 * finds no room for table data cleanly (53100), but one that finds none for a new write-ahead-log file
 * during a commit left the process spinning, deaf to SIGTERM, until killed (an operator's review, on a
 * tmpfs filled while agents posted): so ingest stops well before that point instead (api/routes/events.ts).
 * Only the embedded database: a PostgreSQL server's disk is its own operator's to watch.
 */
export interface DiskRoom {
  /** Whether the last reading was below the floor (false before a readable one). */
  low(): boolean;
  stop(): void;
}

/** How often the disk is read: a statfs is a few µs, and ingest fills 256 MB in minutes at the fastest. */
export const DISK_ROOM_EVERY_MS = 2_000;

/** Reads `dir`'s disk now and every DISK_ROOM_EVERY_MS, and logs each crossing of `floorMb` (a warn down, an info up). */
export async function watchDiskRoom(dir: string, floorMb: number, logger: Logger): Promise<DiskRoom> {
  let low = false;
  const read = async () => {
    let free: number;
    try {
      const s = await statfs(dir);
      free = s.bavail * s.bsize;
    } catch {
      // Unreadable (the directory removed under us): no reading is no refusal; the database says the rest.
      low = false;
      return;
    }
    const nowLow = free < floorMb * 1024 * 1024;
    if (nowLow === low) return;
    low = nowLow;
    const freeMb = Math.floor(free / 1024 / 1024);
    if (low)
      logger.warn(
        { data_dir: dir, free_mb: freeMb, min_free_mb: floorMb },
        'the disk holding the embedded database is nearly full: events are refused (503) until it has AEGIS_MIN_FREE_DISK_MB free',
      );
    else logger.info({ data_dir: dir, free_mb: freeMb }, 'the disk holding the embedded database has room again: events are recorded');
  };
  await read();
  const timer = setInterval(() => void read(), DISK_ROOM_EVERY_MS);
  timer.unref();
  return { low: () => low, stop: () => clearInterval(timer) };
}
