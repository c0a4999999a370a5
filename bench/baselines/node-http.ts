/**
 * Ceiling (a): a bare node:http server answering a small JSON POST (and GET) — what HTTP on this
 * machine costs before any framework. Prints "ready <port>" when listening.
 */
import { createServer } from 'node:http';
import { serveClustered } from './clustered';

const reply = JSON.stringify({ productId: 'SKU-001', newQuantity: 50, newVersion: 13, applied: true, lastUpdated: '2026-01-01T00:00:00.000Z' });

const server = createServer((request, response) => {
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    if (request.method === 'POST') {
      JSON.parse(Buffer.concat(chunks).toString('utf8'));
    }
    response.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(reply) });
    response.end(reply);
  });
});
server.keepAliveTimeout = 65_000;
serveClustered(
  () =>
    new Promise((resolve) =>
      server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
        const address = server.address();
        resolve(typeof address === 'object' && address !== null ? address.port : 0);
      }),
    ),
);
