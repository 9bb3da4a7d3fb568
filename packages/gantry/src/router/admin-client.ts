import { Pool } from "undici";
import type { RouterPolicy } from "./policy.ts";
import type { ShadowStats } from "./shadow.ts";

/** What the control plane may ask of a running router over its loopback admin port. */
export interface RouterAdmin {
  putPolicy(policy: RouterPolicy): Promise<void>;
  getPolicy(): Promise<RouterPolicy>;
  /** In-flight request counts by instance id (only instances with requests in flight). */
  inflight(): Promise<Record<string, number>>;
  /** Prometheus text exposition of the router's request metrics. */
  metrics(): Promise<string>;
  /** Circuit breaker state ("closed", "open", "half-open") by service. */
  breakers(): Promise<Record<string, string>>;
  /** Shadow traffic counts by service. */
  shadow(): Promise<Record<string, ShadowStats>>;
  healthy(): Promise<boolean>;
}

/** RouterAdmin over HTTP to the router process. */
export class HttpRouterAdmin implements RouterAdmin {
  readonly #pool: Pool;
  readonly #auth: string;

  constructor(options: { port: number; token: string }) {
    this.#pool = new Pool(`http://127.0.0.1:${options.port}`, {
      connections: 4,
      headersTimeout: 5000,
      bodyTimeout: 10_000,
    });
    this.#auth = `Bearer ${options.token}`;
  }

  async putPolicy(policy: RouterPolicy): Promise<void> {
    await this.#call("PUT", "/policy", JSON.stringify(policy));
  }

  async getPolicy(): Promise<RouterPolicy> {
    return JSON.parse(await this.#call("GET", "/policy"));
  }

  async inflight(): Promise<Record<string, number>> {
    return JSON.parse(await this.#call("GET", "/inflight"));
  }

  metrics(): Promise<string> {
    return this.#call("GET", "/metrics");
  }

  async breakers(): Promise<Record<string, string>> {
    return JSON.parse(await this.#call("GET", "/breakers"));
  }

  /** Shadow traffic counts by service (what the router compared so far). */
  async shadow(): Promise<Record<string, ShadowStats>> {
    return JSON.parse(await this.#call("GET", "/shadow"));
  }

  async healthy(): Promise<boolean> {
    try {
      await this.#call("GET", "/healthz");
      return true;
    } catch {
      return false;
    }
  }

  close(): Promise<void> {
    return this.#pool.close();
  }

  async #call(method: "GET" | "PUT", path: string, body?: string): Promise<string> {
    const response = await this.#pool.request({
      method,
      path,
      headers: { authorization: this.#auth, ...(body && { "content-type": "application/json" }) },
      body: body ?? null,
    });
    const text = await response.body.text();
    if (response.statusCode >= 300)
      throw new Error(`router admin ${method} ${path}: ${response.statusCode} ${text}`);
    return text;
  }
}
