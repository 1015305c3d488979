// A plain gRPC client run as a child process by the tests: it opens a VAD StreamingRecognize stream,
// sends one chunk of audio, prints "streaming" once the server has answered it, and then waits to be
// killed, so the test can see what the server does when a client vanishes without a goodbye.
// Usage: node disconnecting-client.mjs PROTO_PATH HOST:PORT
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

const [protoPath, address] = process.argv.slice(2);
const definition = protoLoader.loadSync(protoPath, {
  keepCase: false,
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
});
const Speech = grpc.loadPackageDefinition(definition).otklik.speech.v1.Speech;
const client = new Speech(address, grpc.credentials.createInsecure());
const call = client.StreamingRecognize();
call.on('data', (msg) => {
  if (msg.seq === 1) process.stdout.write('streaming\n');
});
call.on('error', (err) => {
  process.stderr.write(`${err.message}\n`);
  process.exit(1);
});
call.write({ config: { sampleRate: 16000, enableVad: true } });
call.write({ audio: { seq: 1, pcm16: Buffer.alloc(640) } });
setInterval(() => {}, 60_000);
