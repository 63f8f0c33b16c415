/** Host integration and desktop export; the sandbox plan itself is in ../policy. */
export { computeHostIntegration, parseBusAddress, runtimeDirInside, type HostIntegration, type IntegrationContext } from "./integration.ts";
export { realHostFs, type HostFs, type PathKind } from "./host-fs.ts";
export {
  applicationsDir,
  checkDesktopAppName,
  desktopFileName,
  exportDesktopApps,
  listDesktopApps,
  removeDesktopApps,
  renderDesktopEntry,
  type DesktopExportRequest,
  type DesktopExportResult,
} from "./desktop-export.ts";
export { execValue, parseExecValue, quoteExecArgument } from "./desktop-entry.ts";
