import { statfs } from 'node:fs/promises';

/**
 * How much room the embedded database's disk has, read every few seconds. PGlite refuses a write that
 * finds no room for table data cleanly (53100), but one that finds none for a new write-ahead-log file
 * during a commit left the process spinning, deaf to SIGTERM, until killed (an operator's review, on a
 * tmpfs filled while agents posted): so ingest stops well before that point instead (api/routes/events.ts).
 * Only the embedded database: a PostgreSQL server's disk is its own operator's to watch.
 */
export interface DiskRoom {
  /** Bytes free for this process's writes at the last reading (null before the first, or unreadable). */
  freeBytes(): number | null;
  /** Whether the last reading was below the floor. */
  low(): boolean;
  readonly floorBytes: number;
  stop(): void;
}

/** How often the disk is read: a statfs is a few µs, and ingest fills 256 MB in minutes at the fastest. */
export const DISK_ROOM_EVERY_MS = 2_000;

export async function watchDiskRoom(dir: string, floorBytes: number, onChange?: (low: boolean, freeBytes: number) => void): Promise<DiskRoom> {
  let free: number | null = null;
  let wasLow = false;
  const read = async () => {
    try {
      const s = await statfs(dir);
      free = s.bavail * s.bsize;
    } catch {
      // Unreadable (the directory removed under us): no reading is no refusal; the database says the rest.
      free = null;
    }
    const low = free !== null && free < floorBytes;
    if (low !== wasLow && free !== null) onChange?.(low, free);
    wasLow = low;
  };
  await read();
  const timer = setInterval(() => void read(), DISK_ROOM_EVERY_MS);
  timer.unref();
  return {
    freeBytes: () => free,
    low: () => free !== null && free < floorBytes,
    floorBytes,
    stop: () => clearInterval(timer),
  };
}
