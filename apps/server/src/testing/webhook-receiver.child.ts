// A webhook receiver for the kill test: `<port> <secret> <file> <killAfter>`. It verifies every
// request with the standardwebhooks library (an independent implementation of the spec),
// appends one JSON line per request to <file> before it answers, and after the <killAfter>-th
// verified request (0: never) dies with SIGKILL before answering it.
import { appendFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { Webhook } from 'standardwebhooks';

const [portText, secret, file, killAfterText] = process.argv.slice(2);
if (portText === undefined || secret === undefined || file === undefined) {
  process.stderr.write('usage: <port> <secret> <file> <killAfter>\n');
  process.exit(2);
}
const verifier = new Webhook(secret);
const killAfter = Number(killAfterText ?? '0');
let verified = 0;

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    const body = Buffer.concat(chunks).toString('utf8');
    const header = (name: string) => String(req.headers[name] ?? '');
    const headers = {
      'webhook-id': header('webhook-id'),
      'webhook-timestamp': header('webhook-timestamp'),
      'webhook-signature': header('webhook-signature'),
    };
    let event: { id?: string; subject?: string; type?: string } = {};
    let ok = true;
    try {
      event = verifier.verify(body, headers) as typeof event;
    } catch {
      ok = false;
    }
    appendFileSync(
      file,
      `${JSON.stringify({ webhookId: headers['webhook-id'], verified: ok, id: event.id, subject: event.subject, type: event.type, userAgent: header('user-agent') })}\n`,
    );
    if (!ok) {
      res.writeHead(400).end();
      return;
    }
    verified += 1;
    if (verified === killAfter) process.kill(process.pid, 'SIGKILL');
    res.writeHead(204).end();
  });
});
server.listen(Number(portText), '127.0.0.1', () => process.stdout.write('listening\n'));
