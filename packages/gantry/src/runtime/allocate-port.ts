import { createServer } from "node:net";

/**
 * A port that was free a moment ago: the kernel picks one by listening on port 0.
 * Another process could take it before the instance binds; the window is short and the
 * instance then fails its health check and is restarted, which a rollout already handles.
 */
export function allocatePort(host = "127.0.0.1"): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once("error", reject);
    server.listen({ host, port: 0, exclusive: true }, () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error("no port assigned"))));
    });
  });
}
