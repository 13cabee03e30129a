import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { openPg, PG_KEEPALIVE_IDLE_MS } from './pg.js';

// What reaches the socket: node-postgres calls setKeepAlive(true, keepAliveInitialDelayMillis) once
// the TCP connection is up. A delay of 0 (keepAlive: true alone) leaves the kernel's 2-hour idle time,
// so a server that vanished without closing its sockets would be noticed after hours.
describe('PostgreSQL connections probe an idle peer within seconds', () => {
  // Accepts each connection and cuts it at once: the socket connects (keep-alive is set then) and the
  // client then fails fast, without a PostgreSQL server.
  const server = net.createServer((s) => s.destroy());
  let url = '';

  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `postgres://nobody@127.0.0.1:${(server.address() as net.AddressInfo).port}/none`;
  });
  afterAll(async () => {
    vi.restoreAllMocks();
    await new Promise((resolve) => server.close(resolve));
  });

  it('sets a short keep-alive idle time on pooled connections and on the LISTEN connection', async () => {
    expect(PG_KEEPALIVE_IDLE_MS).toBe(10_000);
    const setKeepAlive = vi.spyOn(net.Socket.prototype, 'setKeepAlive');
    const db = openPg({ connectionString: url, max: 1, connectionTimeoutMs: 5000 });
    try {
      await expect(db.query('SELECT 1')).rejects.toThrow();
      expect(setKeepAlive).toHaveBeenCalledWith(true, PG_KEEPALIVE_IDLE_MS);
      setKeepAlive.mockClear();
      const unlisten = await db.listen('aegis_test', () => undefined);
      await unlisten();
      expect(setKeepAlive).toHaveBeenCalledWith(true, PG_KEEPALIVE_IDLE_MS);
      expect(setKeepAlive).not.toHaveBeenCalledWith(true, 0);
    } finally {
      await db.close();
      setKeepAlive.mockRestore();
    }
  });
});
