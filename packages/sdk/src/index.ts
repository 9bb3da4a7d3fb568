export * from "./scientist/index.ts";
export * from "./flags/index.ts";
