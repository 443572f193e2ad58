/**
 * The gRPC server of bench/macro/grpc.ts, run as its own process so it does not share an event loop with
 * the load: an @grpc/grpc-js server with one unary echo method (raw bytes, no protobuf), on 127.0.0.1 at
 * the port given as argv[2] (0: any). Prints `port N` once bound; exits on SIGTERM.
 */
import * as grpc from '@grpc/grpc-js';

export const ECHO_PATH = '/skiff.bench.Echo/Call';
const raw = (b: Buffer): Buffer => b;
export const ECHO_SERVICE: grpc.ServiceDefinition = {
  Call: { path: ECHO_PATH, requestStream: false, responseStream: false, requestSerialize: raw, requestDeserialize: raw, responseSerialize: raw, responseDeserialize: raw },
};

async function main(): Promise<void> {
  const server = new grpc.Server();
  server.addService(ECHO_SERVICE, {
    Call: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => cb(null, call.request),
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`127.0.0.1:${process.argv[2] ?? '0'}`, grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
  process.stdout.write(`port ${port}\n`);
  process.once('SIGTERM', () => { server.forceShutdown(); process.exit(0); });
}

// Only as a process of its own (the benchmark imports the service definition from here too).
if (process.argv[1]?.endsWith('grpc_server.js')) await main();
