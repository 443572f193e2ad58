// Every client test again, over upstream sockets that read into the one reused buffer the connection pool
// uses (socket-io.ts connectSharedReads): chunks are valid only during their data event, so whatever the
// client keeps (paused input, body pieces, bytes after a head) must have been copied.
process.env.SKIFF_TEST_SHARED_READS = '1';
await import('./client.test.js');
