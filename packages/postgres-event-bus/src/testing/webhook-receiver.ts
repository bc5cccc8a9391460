import { createServer, type IncomingHttpHeaders } from 'node:http';

/** One request a test receiver got. */
export interface ReceivedRequest {
  readonly method: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  /** The status it answered; 0 for a request it left hanging. */
  readonly status: number;
}

export interface WebhookReceiver {
  /** `http://127.0.0.1:<port>/hook`. */
  readonly url: string;
  readonly requests: ReceivedRequest[];
  /**
   * Decides each answer's status (default 200); a redirect carries a Location; `hang`: no
   * answer at all (until the client gives up or the receiver closes).
   */
  respond(decide: (request: Omit<ReceivedRequest, 'status'>) => number | 'hang'): void;
  close(): Promise<void>;
}

/** A real HTTP endpoint on the loopback for webhook tests: records, answers as told. */
export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const requests: ReceivedRequest[] = [];
  let decide: (request: Omit<ReceivedRequest, 'status'>) => number | 'hang' = () => 200;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const request = {
        method: req.method ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      const decided = decide(request);
      if (decided === 'hang') {
        requests.push({ ...request, status: 0 });
        return;
      }
      const status = decided;
      requests.push({ ...request, status });
      res.writeHead(status, status >= 300 && status < 400 ? { location: 'http://10.0.0.1/' } : {});
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    requests,
    respond: (next) => {
      decide = next;
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
