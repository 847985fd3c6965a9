/**
 * How a problem names a setting, and the fix that sets it, in the words of the surface the user
 * typed it in: the stack config (`redis-ha:minReplicasToWrite`, `pulumi config set ...`) or a
 * component's args (`args.redis.minReplicasToWrite`, `set args.redis.minReplicasToWrite to 1`).
 * The rules are written once against this interface.
 */
import { CONFIG_NAMESPACE, ComponentName, SETTINGS_BY_KEY, SettingKey } from "./settingsSchema";

export interface SettingNames {
    /** Which surface: problem texts that must differ (rare) ask this. */
    readonly surface: "stack" | ComponentName | "RedisHa";
    /** The setting as this surface spells it. */
    name(key: SettingKey | string): string;
    /** The setting inside a sentence ("is more than replicaCount (2)"): bare on the stack, where every setting is one. */
    mention(key: SettingKey): string;
    /** The value as the user typed it, for the "= value" part of a problem. */
    show(value: unknown): string;
    /** The fix that gives the setting this value. */
    set(key: SettingKey, value: string | number | boolean): string;
    /** The fix that adds a list element. */
    add(key: SettingKey, example: string): string;
    /** The fix that gives a secret setting a fresh random value. */
    setRandomSecret(key: SettingKey): string;
    /** The fix that removes the setting. */
    unset(key: SettingKey): string;
}

const RANDOM_SECRET = `"$(openssl rand -base64 33 | tr -d '/+=')"`;

export const STACK_NAMES: SettingNames = {
    surface: "stack",
    name: (key) => `${CONFIG_NAMESPACE}:${key}`,
    mention: (key) => key,
    show: (value) => (value === undefined ? "(unset)" : JSON.stringify(typeof value === "string" ? value : JSON.stringify(value))),
    set: (key, value) => `pulumi config set ${CONFIG_NAMESPACE}:${key} ${value}`,
    add: (key, example) => `pulumi config set --path '${CONFIG_NAMESPACE}:${key}[0]' ${example}`,
    setRandomSecret: (key) => `pulumi config set --secret ${CONFIG_NAMESPACE}:${key} ${RANDOM_SECRET}`,
    unset: (key) => `pulumi config rm ${CONFIG_NAMESPACE}:${key}`,
};

/**
 * A component's names. A key the component has no arg for keeps its stack name: the component's
 * rules never speak of it (the table-driven test over both surfaces checks that).
 */
export function componentNames(component: ComponentName): SettingNames {
    const arg = (key: string): string => {
        const [base, index] = /^(\w+)(\[\d+\])?$/.exec(key)?.slice(1) ?? [key];
        const args = SETTINGS_BY_KEY.get(base)?.args ?? {};
        const own = args[component];
        if (own) return `args.${own}${index ?? ""}`;
        const other = (Object.entries(args) as Array<[ComponentName, string]>)[0];
        return other ? `${other[0]} args.${other[1]}${index ?? ""}` : `${CONFIG_NAMESPACE}:${key}`;
    };
    return namesOf(component, arg);
}

/**
 * RedisHa, the whole deployment as one component (for Pulumi YAML and other languages), takes
 * every setting as an arg of the same name, except the cloud's own, in its sub-object.
 */
const REDIS_HA_ARG_PATHS: Partial<Record<string, string>> = { ovhProjectId: "ovh.projectId", ovhVlanId: "ovh.vlanId" };

/** RedisHa's arg path for a setting ("ovh.projectId" for ovhProjectId, the key itself for the rest). */
export function redisHaArgPath(key: string): string {
    return REDIS_HA_ARG_PATHS[key] ?? key;
}

export function redisHaNames(): SettingNames {
    return namesOf("RedisHa", (key) => {
        const [base, index] = /^(\w+)(\[\d+\])?$/.exec(key)?.slice(1) ?? [key];
        return `args.${redisHaArgPath(base)}${index ?? ""}`;
    });
}

function namesOf(surface: ComponentName | "RedisHa", arg: (key: string) => string): SettingNames {
    return {
        surface,
        name: arg,
        mention: arg,
        show: (value) => (value === undefined ? "(unset)" : JSON.stringify(value)),
        set: (key, value) => `set ${arg(key)} to ${typeof value === "string" && !/^\d+$/.test(value) && value !== "true" && value !== "false" ? JSON.stringify(value) : value}`,
        add: (key, example) => `add one to ${arg(key)}, e.g. ${JSON.stringify(example)}`,
        setRandomSecret: (key) => `give ${arg(key)} a new random secret, e.g. new random.RandomPassword(..., { length: 32, special: false }).result`,
        unset: (key) => `leave ${arg(key)} out`,
    };
}
