import { GantryError } from "./index.ts";

/** For tests: the GantryError a promise is refused with; fails when it resolves or throws anything else. */
export async function refusal(p: Promise<unknown>): Promise<GantryError> {
  try {
    await p;
  } catch (error) {
    if (error instanceof GantryError) return error;
    throw error;
  }
  throw new Error("expected a refusal");
}
