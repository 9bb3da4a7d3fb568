import { clientFrom } from "../api-client.ts";
import { type Command, clientHelp, clientOptions, requirePositional } from "../command.ts";

export const logs: Command = {
  name: "logs",
  usage: "gantry logs SERVICE [--version V] [--tail BYTES] [-f]",
  summary: "instance logs, prefixed with the instance id",
  help: `Prints the recent log output (stdout and stderr) of the instances of SERVICE, each line
prefixed with its instance id. Logs are kept per instance, bounded in size.

  --version V    only instances of version V (also recently stopped ones)
  --tail BYTES   how much of each log (default 16384)
  -f, --follow   keep printing new output until Ctrl-C
${clientHelp}`,
  options: {
    ...clientOptions,
    version: { type: "string" },
    tail: { type: "string" },
    follow: { type: "boolean", short: "f" },
  },
  async run(values, positionals) {
    const service = requirePositional(logs, positionals, 0, "SERVICE");
    const client = clientFrom(values);
    const query = new URLSearchParams();
    if (values.version) query.set("version", values.version as string);
    if (values.tail) query.set("tail", values.tail as string);
    if (values.follow) query.set("follow", "true");
    const response = await client.fetch(
      "GET",
      `/api/v1/services/${encodeURIComponent(service)}/logs?${query}`,
    );
    if (!response.ok) {
      await client.request("GET", `/api/v1/services/${encodeURIComponent(service)}/logs?${query}`);
      return 1;
    }
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>)
      process.stdout.write(chunk);
    return 0;
  },
};
