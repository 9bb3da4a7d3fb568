export { type ErrorCode, GantryError, type GantryErrorJson, isGantryError } from "./gantry-error.ts";
