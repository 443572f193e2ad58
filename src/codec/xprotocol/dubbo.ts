/** Dubbo 2 (hessian2): multiplexed by request id, heartbeat events, READONLY event as goaway. */
import * as L from '../../wasm/layout.js';
import { XStatus, type XProtocolSpec } from './spec.js';

export const dubboSpec: XProtocolSpec = {
  name: 'dubbo',
  protoIds: [L.XP_DUBBO],
  poolMode: 'multiplex',
  heartbeat: true,
  goaway: true,
  goawayOptIn: false,
  statusToHttp(status) {
    switch (status) {
      case L.DUBBO_STATUS_OK: return XStatus.OK;
      case L.DUBBO_STATUS_CLIENT_TIMEOUT: case L.DUBBO_STATUS_SERVER_TIMEOUT: return XStatus.GATEWAY_TIMEOUT;
      case L.DUBBO_STATUS_BAD_REQUEST: return XStatus.BAD_REQUEST;
      case L.DUBBO_STATUS_BAD_RESPONSE: return XStatus.BAD_GATEWAY;
      case L.DUBBO_STATUS_SERVICE_NOT_FOUND: return XStatus.NOT_FOUND;
      case L.DUBBO_STATUS_THREADPOOL_EXHAUSTED: return XStatus.UNAVAILABLE;
      default: return XStatus.INTERNAL;
    }
  },
  httpToStatus(code) {
    switch (code) {
      case XStatus.OK: return L.DUBBO_STATUS_OK;
      case XStatus.GATEWAY_TIMEOUT: return L.DUBBO_STATUS_SERVER_TIMEOUT;
      case XStatus.BAD_REQUEST: return L.DUBBO_STATUS_BAD_REQUEST;
      case XStatus.BAD_GATEWAY: return L.DUBBO_STATUS_BAD_RESPONSE;
      case XStatus.NOT_FOUND: return L.DUBBO_STATUS_SERVICE_NOT_FOUND;
      case XStatus.UNAVAILABLE: return L.DUBBO_STATUS_THREADPOOL_EXHAUSTED;
      default: return L.DUBBO_STATUS_SERVER_ERROR;
    }
  },
};
