import type { StackSettings } from "../components/core/settings";
import { platformForCloud } from "../components/platforms/forCloud";
import type { Platform } from "../components/platforms/platform";

/** The stack's platform: its lab, if any, is named after the stack. */
export function platformFor(
    settings: Pick<StackSettings, "cloud" | "region" | "ovhProjectId" | "ovhVlanId" | "appCidrs" | "adminCidrs" | "redisPort" | "sentinelPort">,
    stack: string,
): Platform {
    return platformForCloud(settings, `pl-${stack}`.slice(0, 12));
}
