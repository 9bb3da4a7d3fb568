export {
  type ImportRelease,
  ReleaseIntake,
  type ReleaseIntakeDeps,
  type ReleaseUpload,
} from "./release-intake.ts";
export {
  type CohortTraffic,
  type Release,
  type Service,
  ServiceCatalog,
  type ServiceState,
  type ShadowTraffic,
  type Switches,
  type Traffic,
  type TrafficShare,
} from "./service-catalog.ts";
