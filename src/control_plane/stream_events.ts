/** What the streams report to the server (counters, /healthz, logs, and tests that wait for an ACK). */
export interface StreamEvents {
  onResponse(nodeId: string, typeUrl: string, version: string, resources: number): void;
  onAck(nodeId: string, typeUrl: string, version: string): void;
  onNack(nodeId: string, typeUrl: string, nonce: string, message: string): void;
}
