/**
 * A terminal network filter for listener tests: answers every connection with the JSON of its ConnectionInfo
 * and the initialData it was handed (hex), then closes. Registered under `test.echo_info`.
 */
import type { NetworkFilterFactory } from '../../src/types/network.js';
import { registerNetworkFilter } from '../../src/listener/network_filters.js';

export const ECHO_INFO = 'test.echo_info';
export const ECHO_INFO_TYPE_URL = 'type.googleapis.com/test.EchoInfo';

const factory: NetworkFilterFactory = {
  names: [ECHO_INFO],
  typeUrls: [ECHO_INFO_TYPE_URL],
  create() {
    return {
      rdsNames: [],
      onConnection(conn) {
        const i = conn.info;
        const info = {
          remoteAddress: i.remoteAddress, remotePort: i.remotePort, localAddress: i.localAddress, localPort: i.localPort,
          transportProtocol: i.transportProtocol, serverName: i.serverName, alpn: i.alpn, peerSans: [...i.peerSans],
          initialData: Buffer.from(conn.initialData).toString('hex'),
        };
        conn.socket.end(JSON.stringify(info));
        if (conn.socket.readableFlowing === false) conn.socket.resume();
        return { drain: () => {}, destroy: () => conn.socket.destroy() };
      },
      startDraining() {},
      dispose() {},
    };
  },
};

export function registerEchoFilter(): void { registerNetworkFilter(factory); }

export const echoFilter = { name: ECHO_INFO, typed_config: { '@type': ECHO_INFO_TYPE_URL } };
