export { GantryProvider, type GantryProviderStats } from "./gantry-provider.ts";
export { type GantryProviderOptions, GantryProviderOptionsError } from "./provider-options.ts";
