export * from "./flags/index.ts";
export * from "./scientist/index.ts";
