import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { ConfigValidationError } from "../components/core/errors";
import { CONFIG_NAMESPACE, ValidatedSettings, validateStackConfig } from "../components/core/settings";
import { generatePassword } from "../components/core/tokens";

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
    if (raw.cloud === "lab") fillLabSecrets(raw);
    try {
        return validateStackConfig(raw);
    } catch (e) {
        if (e instanceof ConfigValidationError) throw new pulumi.RunError(e.message);
        throw e;
    }
}

/**
 * A lab stack may leave its passwords unset: the lab generates them once and keeps them root-only
 * in the project's git-ignored .state/, so `npm run lab:up` works on a fresh clone. Clouds never do
 * this; there the passwords are required settings.
 */
function fillLabSecrets(raw: Record<string, string>): void {
    const sentinelAuth = raw.sentinelAuth !== "false";
    if (raw.redisPassword && (raw.sentinelPassword || !sentinelAuth)) return;
    const file = path.resolve(__dirname, "..", ".state", "lab", `secrets-${pulumi.getStack()}.json`);
    if (!fs.existsSync(file)) {
        fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
        fs.writeFileSync(file, JSON.stringify({ redisPassword: generatePassword(), sentinelPassword: generatePassword() }), { mode: 0o600 });
    }
    const generated = JSON.parse(fs.readFileSync(file, "utf8")) as Record<string, string>;
    raw.redisPassword ||= generated.redisPassword;
    if (sentinelAuth) raw.sentinelPassword ||= generated.sentinelPassword;
}
