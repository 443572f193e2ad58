// Ports for tests that need a known-closed one (connect failures) or a free one to configure up front.
import net from 'node:net';
import { once } from 'node:events';

/** A port on 127.0.0.1 with nothing listening (bound then closed). */
export async function closedPort(): Promise<number> {
  const s = net.createServer();
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}
