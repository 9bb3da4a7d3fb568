import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** Commands the bench needs, and the Debian package that provides each. */
const wanted = [
  { command: "wrk", pkg: "wrk" },
  { command: "nginx", pkg: "nginx-light" },
  { command: "haproxy", pkg: "haproxy" },
  { command: "taskset", pkg: "util-linux" },
];

function have(command: string): boolean {
  try {
    execFileSync("sh", ["-c", `command -v ${command}`], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

function aptHas(pkg: string): boolean {
  const policy = execFileSync("apt-cache", ["policy", pkg], { encoding: "utf8" });
  return /Candidate:\s+(?!\(none\))\S+/.test(policy);
}

/**
 * Installs the missing peers from Debian (one `apt-get update`, then one install) and says
 * which. Returns whether wrk2 (fixed-rate wrk) is available for the half-load run.
 */
export function installPeers(): { wrk2: boolean } {
  const missing = wanted.filter((w) => !have(w.command));
  let updated = false;
  const install = (packages: string[]): void => {
    if (!updated) {
      console.log("apt-get update");
      execFileSync("apt-get", ["update", "-qq"], { stdio: "inherit" });
      updated = true;
    }
    console.log(`installing from Debian: ${packages.join(", ")}`);
    execFileSync("apt-get", ["install", "-y", "-qq", "--no-install-recommends", ...packages], {
      stdio: "inherit",
      env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
    });
  };
  if (missing.length > 0) install(missing.map((m) => m.pkg));
  if (have("wrk2")) return { wrk2: true };
  if (aptHas("wrk2")) {
    install(["wrk2"]);
    return { wrk2: have("wrk2") };
  }
  return { wrk2: false };
}

/** A directory for one peer's config, pid and logs. */
function peerDir(work: string, name: string): string {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  return dir;
}

function nginxConf(dir: string, http: string): string {
  const file = join(dir, "nginx.conf");
  writeFileSync(
    file,
    `worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/client; proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi; uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
  keepalive_requests 1000000;
${http}
}
`,
  );
  return file;
}

/** The upstream everyone proxies to: nginx answering a fixed 6-byte body itself. */
export function nginxUpstreamArgs(work: string, port: number): string[] {
  const dir = peerDir(work, "upstream");
  const conf = nginxConf(
    dir,
    `  server { listen 127.0.0.1:${port} backlog=4096; location / { return 200 "hello\\n"; } }`,
  );
  return ["-p", dir, "-e", join(dir, "error.log"), "-c", conf];
}

/** nginx as a plain reverse proxy with a keep-alive pool to the upstream. */
export function nginxProxyArgs(work: string, port: number, upstream: number): string[] {
  const dir = peerDir(work, "nginx-proxy");
  const conf = nginxConf(
    dir,
    `  upstream app { server 127.0.0.1:${upstream}; keepalive 64; }
  server {
    listen 127.0.0.1:${port} backlog=4096;
    location / { proxy_pass http://app; proxy_http_version 1.1; proxy_set_header Connection ""; }
  }`,
  );
  return ["-p", dir, "-e", join(dir, "error.log"), "-c", conf];
}

/** HAProxy as a plain reverse proxy: one thread, HTTP mode, server connections reused. */
export function haproxyArgs(work: string, port: number, upstream: number): string[] {
  const dir = peerDir(work, "haproxy");
  const file = join(dir, "haproxy.cfg");
  writeFileSync(
    file,
    `global
  nbthread 1
  maxconn 4096
defaults
  mode http
  timeout connect 5s
  timeout client 30s
  timeout server 30s
  http-reuse always
frontend bench
  bind 127.0.0.1:${port}
  default_backend app
backend app
  server up 127.0.0.1:${upstream}
`,
  );
  return ["-f", file];
}
