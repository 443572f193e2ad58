/**
 * A Duplex over a socket that first yields bytes already read from it. Node's TLSSocket over a net.Socket
 * reads from the socket's handle directly and would skip bytes pushed back with unshift(); over a generic
 * Duplex it reads through the stream interface, so the ClientHello the tls_inspector read reaches the
 * handshake. Writes, end and destroy go to the socket; backpressure follows the socket's.
 */
import type { Socket } from 'node:net';
import { Duplex } from 'node:stream';

export function replaySocket(socket: Socket, peeked: Buffer): Duplex {
  const d = new Duplex({
    read() { socket.resume(); },
    write(chunk: Buffer, _enc, cb) { socket.write(chunk, (err) => cb(err ?? null)); },
    final(cb) { socket.end(); cb(); },
    destroy(err, cb) { socket.destroy(); cb(err); },
  });
  if (peeked.length > 0) d.push(peeked);
  socket.on('data', (c: Buffer) => { if (!d.push(c)) socket.pause(); });
  socket.once('end', () => d.push(null));
  socket.once('close', () => d.destroy());
  return d;
}
