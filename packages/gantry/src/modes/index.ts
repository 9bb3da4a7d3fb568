export { Switchboard, type SwitchboardDeps } from "./switchboard.ts";
