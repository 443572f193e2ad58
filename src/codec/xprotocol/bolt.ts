/** SOFARPC Bolt v1 and v2: multiplexed by request id, heartbeats, MOSN's goaway command (opt-in). */
import * as L from '../../wasm/layout.js';
import { XStatus, type XProtocolSpec } from './spec.js';

export const boltSpec: XProtocolSpec = {
  name: 'bolt',
  protoIds: [L.XP_BOLT_V1, L.XP_BOLT_V2],
  poolMode: 'multiplex',
  heartbeat: true,
  goaway: true,
  goawayOptIn: true,
  statusToHttp(status) {
    switch (status) {
      case L.BOLT_STATUS_SUCCESS: return XStatus.OK;
      case L.BOLT_STATUS_SERVER_THREADPOOL_BUSY: return XStatus.UNAVAILABLE;
      case L.BOLT_STATUS_NO_PROCESSOR: return XStatus.NOT_FOUND;
      case L.BOLT_STATUS_TIMEOUT: return XStatus.GATEWAY_TIMEOUT;
      case L.BOLT_STATUS_CONNECTION_CLOSED: case L.BOLT_STATUS_ERROR_COMM: case L.BOLT_STATUS_CLIENT_SEND_ERROR:
        return XStatus.BAD_GATEWAY;
      case L.BOLT_STATUS_CODEC_EXCEPTION: case L.BOLT_STATUS_SERVER_DESERIAL_EXCEPTION: return XStatus.BAD_REQUEST;
      default: return XStatus.INTERNAL;
    }
  },
  httpToStatus(code) {
    switch (code) {
      case XStatus.OK: return L.BOLT_STATUS_SUCCESS;
      case XStatus.UNAVAILABLE: return L.BOLT_STATUS_SERVER_THREADPOOL_BUSY;
      case XStatus.NOT_FOUND: return L.BOLT_STATUS_NO_PROCESSOR;
      case XStatus.GATEWAY_TIMEOUT: return L.BOLT_STATUS_TIMEOUT;
      case XStatus.BAD_GATEWAY: return L.BOLT_STATUS_CONNECTION_CLOSED;
      case XStatus.BAD_REQUEST: return L.BOLT_STATUS_CODEC_EXCEPTION;
      default: return L.BOLT_STATUS_SERVER_EXCEPTION;
    }
  },
};
