export { allows, isRole, leastRoleFor, type Permission, type Role, roles } from "./roles.ts";
export { type CreatedToken, type Principal, TokenService } from "./token-service.ts";
