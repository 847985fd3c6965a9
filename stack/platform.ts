import type { StackSettings } from "../components/core/settings";
import { DigitalOceanPlatform } from "../components/platforms/digitalocean";
import { LabPlatform } from "../components/platforms/lab";
import { OvhPlatform } from "../components/platforms/ovh";
import type { Platform } from "../components/platforms/platform";

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
