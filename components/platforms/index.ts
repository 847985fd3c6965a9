import type { StackSettings } from "../core/settings";
import { DigitalOceanPlatform } from "./digitalocean";
import { OvhPlatform } from "./ovh";
import type { Platform } from "./platform";

export { DigitalOceanPlatform, DIGITALOCEAN_ADDRESS_DISCOVERY } from "./digitalocean";
export type { DigitalOceanPlatformArgs } from "./digitalocean";
export { OvhPlatform } from "./ovh";
export type { OvhPlatformArgs } from "./ovh";
export * from "./platform";

/** The only place that maps the `cloud` setting to an adapter. */
export function platformFor(settings: Pick<StackSettings, "cloud" | "region" | "ovhProjectId" | "ovhVlanId">): Platform {
    switch (settings.cloud) {
        case "ovh":
            return new OvhPlatform({ projectId: settings.ovhProjectId!, region: settings.region, vlanId: settings.ovhVlanId });
        case "digitalocean":
            return new DigitalOceanPlatform();
        case "lab":
            throw new Error("cloud lab is run by `npm run lab -- up` (see the README); it has no Pulumi platform adapter yet");
    }
}
