import type { StackSettings } from "../core/settings";
import { DigitalOceanPlatform } from "./digitalocean";
import { LabPlatform } from "./lab";
import { OvhPlatform } from "./ovh";
import type { Platform } from "./platform";

export { DigitalOceanPlatform, DIGITALOCEAN_ADDRESS_DISCOVERY } from "./digitalocean";
export type { DigitalOceanPlatformArgs } from "./digitalocean";
export { OvhPlatform } from "./ovh";
export { LabPlatform } from "./lab";
export type { LabPlatformArgs } from "./lab";
export type { OvhPlatformArgs } from "./ovh";
export * from "./platform";

/** The only place that maps the `cloud` setting to an adapter. */
export function platformFor(
    settings: Pick<StackSettings, "cloud" | "region" | "ovhProjectId" | "ovhVlanId" | "appCidrs" | "adminCidrs" | "redisPort" | "sentinelPort">,
    stack: string,
): Platform {
    switch (settings.cloud) {
        case "ovh":
            return new OvhPlatform({ projectId: settings.ovhProjectId!, region: settings.region, vlanId: settings.ovhVlanId });
        case "digitalocean":
            return new DigitalOceanPlatform();
        case "lab":
            return new LabPlatform({ id: `pl-${stack}`.slice(0, 12), appCidrs: settings.appCidrs, adminCidrs: settings.adminCidrs, redisPort: settings.redisPort, sentinelPort: settings.sentinelPort });
    }
}
