import { readFile, stat } from "node:fs/promises";
import { create as createTar } from "tar";
import { GantryError } from "../../errors/index.ts";
import type { RolloutSummary } from "../../rollout/index.ts";
import { clientFrom } from "../api-client.ts";
import { type Command, clientHelp, clientOptions, requirePositional } from "../command.ts";
import { printJson } from "../render.ts";
import { waitForRollout } from "./wait.ts";

/** A directory is packed as .tar.gz (without a top-level .git); an archive is sent as it is. */
async function readArtifact(path: string): Promise<Buffer> {
  const info = await stat(path).catch(() => undefined);
  if (!info)
    throw new GantryError(
      "BAD_ARTIFACT",
      `--artifact ${path} does not exist; give a directory or a .tar.gz/.tgz file`,
      { field: "artifact" },
    );
  if (info.isFile()) {
    if (!/\.(tgz|tar\.gz)$/.test(path)) {
      throw new GantryError("BAD_ARTIFACT", `--artifact ${path} is a file but not a .tar.gz/.tgz archive`, {
        field: "artifact",
      });
    }
    return readFile(path);
  }
  const chunks: Buffer[] = [];
  const stream = createTar(
    { gzip: true, cwd: path, portable: true, filter: (p) => !/^(\.\/)?\.git(\/|$)/.test(p) },
    ["."],
  );
  for await (const chunk of stream as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

export const deploy: Command = {
  name: "deploy",
  usage:
    "gantry deploy SERVICE --artifact PATH --version V [--env KEY=VALUE]... [--strategy recreate|rolling|blue-green|canary|phased|shedding|shadow] [--wait] [--reason TEXT]",
  summary: "upload a release and roll it out",
  help: `Uploads PATH (a directory, or a .tar.gz/.tgz archive) as release V of SERVICE and starts a
rollout with the service's strategy (or --strategy). A version names one build: uploading V
again with other content or env is refused.

  --env KEY=VALUE   environment of this release (repeatable); recorded with it, shown by history
  --wait            follow the rollout; exit 0 only when V serves all traffic, 1 if it failed
                    or was rolled back
  --require S=RANGE what this release needs of another service's live version (repeatable),
                    e.g. --require api='>=2.3'; a deploy whose requirement is not met is refused
  --override        (admin) deploy despite a lock or a release freeze; needs --reason, audited
  --reason TEXT     why, for the audit trail
  --json            print the rollout (with --wait, the finished one) as JSON
${clientHelp}`,
  options: {
    ...clientOptions,
    artifact: { type: "string" },
    version: { type: "string" },
    env: { type: "string", multiple: true },
    strategy: { type: "string" },
    wait: { type: "boolean" },
    reason: { type: "string" },
    require: { type: "string", multiple: true },
    override: { type: "boolean" },
  },
  async run(values, positionals) {
    const service = requirePositional(deploy, positionals, 0, "SERVICE");
    const artifact = values.artifact as string | undefined;
    const version = values.version as string | undefined;
    if (!artifact)
      throw new GantryError("BAD_REQUEST", `--artifact PATH is required\nusage: ${deploy.usage}`, {
        field: "artifact",
      });
    if (!version)
      throw new GantryError("BAD_REQUEST", `--version V is required\nusage: ${deploy.usage}`, {
        field: "version",
      });
    const client = clientFrom(values);
    const archive = await readArtifact(artifact);
    const env = [
      ...((values.env as string[] | undefined) ?? []).map((pair) => `env=${encodeURIComponent(pair)}`),
      ...((values.require as string[] | undefined) ?? []).map((r) => `require=${encodeURIComponent(r)}`),
    ].join("&");
    const path = `/api/v1/services/${encodeURIComponent(service)}/releases/${encodeURIComponent(version)}${env ? `?${env}` : ""}`;
    await client.request("PUT", path, new Uint8Array(archive), "application/gzip");
    const body: Record<string, unknown> = { version };
    if (values.strategy) body.strategy = values.strategy;
    if (values.reason) body.reason = values.reason;
    if (values.override) body.override = true;
    const { rollout } = await client.request<{ rollout: RolloutSummary }>(
      "POST",
      `/api/v1/services/${encodeURIComponent(service)}/rollouts`,
      body,
    );
    if (!values.wait) {
      if (values.json) printJson({ rollout });
      else
        process.stdout.write(
          `rollout ${rollout.id}: ${service} ${rollout.from ?? "(none)"} → ${rollout.to} (${rollout.strategy}) started\n`,
        );
      return 0;
    }
    return waitForRollout(client, rollout.id, values.json === true);
  },
};
