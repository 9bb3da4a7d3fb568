export * from "./scientist/index.ts";
