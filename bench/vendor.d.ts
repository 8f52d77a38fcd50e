// The small parts of two untyped packages that the benchmark uses (neither ships type definitions).

declare module 'autocannon' {
  interface Stats {
    average: number;
    mean: number;
    stddev: number;
    min: number;
    max: number;
    total: number;
    p50: number;
    p90: number;
    p99: number;
  }
  /** One request of a connection's sequence; `setupRequest` runs before each send when present. */
  interface Request {
    method?: string;
    path?: string;
    headers?: Record<string, string>;
    body?: string;
    setupRequest?: (request: Request, context: Record<string, unknown>) => Request;
    /** Called with each response to this request, before `verifyBody`, in the same tick. */
    onResponse?: (status: number, body: string, context: Record<string, unknown>) => void;
  }
  /** One connection. */
  interface Client {
    setRequests(requests: Request[]): void;
  }
  interface Options {
    url: string;
    method?: string;
    headers?: Record<string, string>;
    body?: string;
    connections?: number;
    duration?: number;
    warmup?: { connections?: number; duration?: number };
    requests?: Request[];
    /** Called once per connection (warm-up connections are others than the measured ones). */
    setupClient?: (client: Client) => void;
    verifyBody?: (body: string) => boolean;
  }
  interface Result {
    duration: number;
    requests: Stats;
    latency: Stats;
    errors: number;
    timeouts: number;
    mismatches: number;
    non2xx: number;
    statusCodeStats: Record<string, { count: number }>;
  }
  interface Instance extends Promise<Result> {
    /** Present once the measured run (after any warm-up) has started; ends it at the next second. */
    stop?: () => void;
  }
  export default function autocannon(options: Options): Instance;
  export type { Client, Options, Request };
}

declare module 'oidc-provider' {
  import type { IncomingMessage, ServerResponse } from 'node:http';

  interface Client {
    clientId: string;
    grantTypeAllowed(grantType: string): boolean;
  }
  interface Context {
    oidc: { client?: Client };
  }
  interface Model {
    /** Stores the model and answers its value (the token, code or grant id). */
    save(): Promise<string>;
  }
  interface Grant extends Model {
    addResourceScope(resource: string, scope: string): void;
  }
  type Payload = Record<string, unknown>;
  export default class Provider {
    constructor(issuer: string, configuration: Record<string, unknown>);
    callback(): (req: IncomingMessage, res: ServerResponse) => void;
    on(event: 'server_error', listener: (ctx: Context, error: Error) => void): this;
    Client: { find(id: string): Promise<Client | undefined> };
    Grant: new (payload: { accountId: string; clientId: string }) => Grant;
    RefreshToken: new (payload: Payload & { client: Client }) => Model;
    AuthorizationCode: new (payload: Payload & { client: Client }) => Model;
  }
  export type { Client, Context };
}

// oidc-provider's own in-memory adapter and its store, used with the size bound lifted.
declare module 'oidc-provider/lib/helpers/lru.js' {
  export default class LRU {
    constructor(options: { maxSize: number });
  }
}
declare module 'oidc-provider/lib/adapters/memory_adapter.js' {
  import type LRU from 'oidc-provider/lib/helpers/lru.js';

  export default class MemoryAdapter {
    constructor(model: string, store: LRU);
  }
}
