import * as pulumi from "@pulumi/pulumi";
import { ConfigValidationError } from "./core/errors";
import { CONFIG_NAMESPACE, ValidatedSettings, validateStackConfig } from "./core/settings";

/**
 * Reads every `redis-ha:*` key of the stack config (so typos are seen, not silently ignored) and
 * validates it. A bad config stops the program here, before any resource is registered.
 */
export function stackSettingsFromConfig(): ValidatedSettings {
    const prefix = `${CONFIG_NAMESPACE}:`;
    const raw: Record<string, string> = {};
    for (const [key, value] of Object.entries(pulumi.runtime.allConfig())) {
        if (key.startsWith(prefix)) raw[key.slice(prefix.length)] = value;
    }
    try {
        return validateStackConfig(raw);
    } catch (e) {
        if (e instanceof ConfigValidationError) throw new pulumi.RunError(e.message);
        throw e;
    }
}
