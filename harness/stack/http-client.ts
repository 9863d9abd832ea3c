/**
 * The HTTP client a stack's traffic goes through (undici). It counts what it sends and what comes
 * back, so a scenario can prove that no request was lost: requests sent = responses received =
 * the filter's `edgewatch_requests_seen_total` = Envoy's `http.<prefix>.downstream_rq_total`.
 *
 * Every request of a stack must go through one of its clients (the shared pool, `connection()`,
 * the worker probes); a request sent around it breaks that equation.
 */
import { Client, type Dispatcher } from "undici";

export type Headers = Record<string, string | string[]>;

/** What the upstream echo fixture (harness/fixtures/upstream-server.ts) answers with. */
export interface EchoBody {
  upstream: string;
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  rawHeaders: string[];
  body: string;
}

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  /** The request as the upstream echo saw it; null when the proxy answered itself (local reply). */
  upstream: EchoBody | null;
}

export interface RequestSpec {
  path: string;
  method?: string;
  headers?: Headers;
  body?: string;
}

/** Counts shared by every client of one stack. */
export class TrafficCounter {
  sent = 0;
  responses = 0;
  /** Requests that got no response (connection error, timeout), with the reason. */
  readonly failures: string[] = [];
}

function parseEcho(body: string, headers: Answer["headers"]): EchoBody | null {
  if (!String(headers["content-type"] ?? "").startsWith("application/json")) return null;
  try {
    const echo = JSON.parse(body) as EchoBody;
    return echo && typeof echo === "object" && typeof echo.upstream === "string" && typeof echo.headers === "object" ? echo : null;
  } catch {
    return null;
  }
}

/** One keep-alive connection (undici Client with pipelining 1): a connection stays on one proxy worker. */
export class Connection {
  readonly client: Client;
  /** Times undici (re)connected this client; > 1 means the proxy closed it and it reconnected. */
  connects = 0;

  constructor(
    readonly url: string,
    private readonly counter: TrafficCounter,
    opts: { keepAliveMs?: number } = {},
  ) {
    const keepAlive = opts.keepAliveMs ?? 600_000;
    this.client = new Client(url, { pipelining: 1, keepAliveTimeout: keepAlive, keepAliveMaxTimeout: keepAlive, headersTimeout: 30_000, bodyTimeout: 30_000 });
    this.client.on("connect", () => this.connects++);
  }

  async send(spec: RequestSpec): Promise<Answer> {
    return send(this.client, spec, this.counter);
  }

  get(path: string, headers: Headers = {}): Promise<Answer> {
    return this.send({ path, headers });
  }

  close(): Promise<void> {
    return this.client.close().catch(() => {});
  }
}

async function send(d: Dispatcher, spec: RequestSpec, counter: TrafficCounter): Promise<Answer> {
  counter.sent++;
  try {
    const r = await d.request({ path: spec.path, method: (spec.method ?? "GET") as Dispatcher.HttpMethod, headers: spec.headers, body: spec.body });
    const body = await r.body.text();
    counter.responses++;
    return { status: r.statusCode, headers: r.headers, body, upstream: parseEcho(body, r.headers) };
  } catch (e) {
    counter.failures.push(`${spec.method ?? "GET"} ${spec.path}: ${(e as Error).message}`);
    throw e;
  }
}

export class CountingClient {
  readonly counter = new TrafficCounter();
  private readonly pool: Connection;
  private readonly opened = new Set<Connection>();

  constructor(readonly url: string) {
    this.pool = this.connection();
  }

  /** A request on the shared connection (whichever worker it landed on). */
  send(spec: RequestSpec): Promise<Answer> {
    return this.pool.send(spec);
  }

  get(path: string, headers: Headers = {}): Promise<Answer> {
    return this.pool.get(path, headers);
  }

  /** A new keep-alive connection; closed with the client. */
  connection(opts: { keepAliveMs?: number } = {}): Connection {
    const c = new Connection(this.url, this.counter, opts);
    this.opened.add(c);
    const close = c.close.bind(c);
    c.close = async () => {
      this.opened.delete(c);
      await close();
    };
    return c;
  }

  /**
   * `n` requests over `concurrency` connections, each taking the next index until all are sent;
   * bounded in count. Answers are in index order; a request that fails rejects the whole call.
   */
  async many(n: number, concurrency: number, make: (i: number) => RequestSpec): Promise<Answer[]> {
    const out: Answer[] = new Array(n);
    let next = 0;
    const conns = Array.from({ length: Math.max(1, Math.min(concurrency, n)) }, () => this.connection());
    try {
      await Promise.all(
        conns.map(async (c) => {
          for (let i = next++; i < n; i = next++) out[i] = await c.send(make(i));
        }),
      );
    } finally {
      await Promise.all(conns.map((c) => c.close()));
    }
    return out;
  }

  async close(): Promise<void> {
    await Promise.all([...this.opened].map((c) => c.close()));
  }
}
