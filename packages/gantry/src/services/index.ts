export { type Release, type Service, ServiceCatalog, type ServiceState, type TrafficShare } from "./service-catalog.ts";
