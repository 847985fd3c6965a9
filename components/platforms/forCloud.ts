import type { StackSettings } from "../core/settingsSchema";
import type { Platform } from "./platform";

/**
 * The adapter for a `cloud` setting. Each platform is required only when chosen, so a program on one
 * cloud never loads (or needs installed) another cloud's SDK. `labId` names the lab's link and
 * state directory (cloud lab only).
 */
export function platformForCloud(
    settings: Pick<StackSettings, "cloud" | "region" | "ovhProjectId" | "ovhVlanId" | "appCidrs" | "adminCidrs" | "redisPort" | "sentinelPort">,
    labId: string,
): Platform {
    switch (settings.cloud) {
        case "ovh": {
            // eslint-disable-next-line @typescript-eslint/no-var-requires
            const { OvhPlatform } = require("./ovh") as typeof import("./ovh");
            return new OvhPlatform({ projectId: settings.ovhProjectId!, region: settings.region, vlanId: settings.ovhVlanId });
        }
        case "digitalocean": {
            // eslint-disable-next-line @typescript-eslint/no-var-requires
            const { DigitalOceanPlatform } = require("./digitalocean") as typeof import("./digitalocean");
            return new DigitalOceanPlatform();
        }
        case "lab": {
            // eslint-disable-next-line @typescript-eslint/no-var-requires
            const { LabPlatform } = require("./lab") as typeof import("./lab");
            return new LabPlatform({ id: labId, appCidrs: settings.appCidrs, adminCidrs: settings.adminCidrs, redisPort: settings.redisPort, sentinelPort: settings.sentinelPort });
        }
    }
}
