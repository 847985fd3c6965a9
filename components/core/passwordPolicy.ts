/**
 * What a password must be, and how the passwords of one deployment must differ: the same rules for
 * the stack config and the component args (the component runs them once its secrets resolve).
 */
import { SettingProblem, describeSecret } from "./errors";
import type { SettingNames } from "./settingNames";
import { checkConfigToken } from "./tokens";

export const PASSWORD_MIN_LENGTH = 16;
export const PASSWORD_MAX_LENGTH = 128;

/** Why a password cannot be used, without ever including the password itself. */
export function passwordProblem(password: string): string | undefined {
    if (password.length < PASSWORD_MIN_LENGTH) {
        return `is ${password.length} characters long; at least ${PASSWORD_MIN_LENGTH} are required (Redis is brute-forced at network speed)`;
    }
    if (password.length > PASSWORD_MAX_LENGTH) return `is longer than ${PASSWORD_MAX_LENGTH} characters`;
    return checkConfigToken(password);
}

export interface DeploymentPasswords {
    redisPassword?: string;
    previousRedisPassword?: string;
    sentinelAuth: boolean;
    sentinelPassword?: string;
    previousSentinelPassword?: string;
}

/** Every problem with one deployment's passwords ("" and undefined both mean unset). */
export function passwordProblems(given: DeploymentPasswords, names: SettingNames): SettingProblem[] {
    const problems: SettingProblem[] = [];
    const problem = (key: keyof DeploymentPasswords, value: string | undefined, text: string, fix: string) =>
        problems.push({ setting: names.name(key), value: describeSecret(value), problem: text, fix });
    const unsetIfEmpty = (v: string | undefined) => (v === "" ? undefined : v);
    const { sentinelAuth } = given;
    const previousRedisPassword = unsetIfEmpty(given.previousRedisPassword);
    const previousSentinelPassword = unsetIfEmpty(given.previousSentinelPassword);
    const usable: { redisPassword?: string; sentinelPassword?: string } = {};

    if (!sentinelAuth && unsetIfEmpty(given.sentinelPassword) !== undefined) {
        problem("sentinelPassword", given.sentinelPassword, `is set while ${names.mention("sentinelAuth")} is false: clients would be told to use a password the Sentinels never ask for`,
            `${names.unset("sentinelPassword")}, or ${names.set("sentinelAuth", true)}`);
    }
    for (const key of sentinelAuth ? (["redisPassword", "sentinelPassword"] as const) : (["redisPassword"] as const)) {
        const value = unsetIfEmpty(given[key]);
        if (value === undefined) {
            problem(key, undefined, "is required", names.setRandomSecret(key));
            continue;
        }
        const why = passwordProblem(value);
        if (why) problem(key, value, why, `choose another: ${names.setRandomSecret(key)}`);
        else usable[key] = value;
    }
    if (usable.redisPassword !== undefined && usable.redisPassword === usable.sentinelPassword) {
        problem("sentinelPassword", usable.sentinelPassword, `is the same as ${names.mention("redisPassword")}: a leaked Sentinel password would open the data`, names.setRandomSecret("sentinelPassword"));
    }
    if (previousRedisPassword !== undefined) {
        const why = passwordProblem(previousRedisPassword);
        if (why) {
            problem("previousRedisPassword", previousRedisPassword, why, `set it to the password the nodes run now (the old ${names.mention("redisPassword")}), or ${names.unset("previousRedisPassword")}`);
        } else if (previousRedisPassword === given.redisPassword) {
            problem("previousRedisPassword", previousRedisPassword, `is the same as ${names.mention("redisPassword")}: there is nothing to rotate`,
                `${names.unset("previousRedisPassword")}, or set ${names.mention("redisPassword")} to the new password`);
        } else if (sentinelAuth && previousRedisPassword === given.sentinelPassword) {
            problem("previousRedisPassword", previousRedisPassword, `is the same as ${names.mention("sentinelPassword")}: a leaked Sentinel password would open the data`,
                `set it to the password the Redis nodes run now, or ${names.unset("previousRedisPassword")}`);
        }
    }
    if (previousSentinelPassword !== undefined) {
        const why = passwordProblem(previousSentinelPassword);
        if (!sentinelAuth) {
            problem("previousSentinelPassword", previousSentinelPassword, `is set while ${names.mention("sentinelAuth")} is false: Sentinels without auth have no password to rotate`, names.unset("previousSentinelPassword"));
        } else if (why) {
            problem("previousSentinelPassword", previousSentinelPassword, why, `set it to the password the Sentinels run now (the old ${names.mention("sentinelPassword")}), or ${names.unset("previousSentinelPassword")}`);
        } else if (previousSentinelPassword === given.sentinelPassword) {
            problem("previousSentinelPassword", previousSentinelPassword, `is the same as ${names.mention("sentinelPassword")}: there is nothing to rotate`,
                `${names.unset("previousSentinelPassword")}, or set ${names.mention("sentinelPassword")} to the new password`);
        } else if (previousSentinelPassword === given.redisPassword || previousSentinelPassword === previousRedisPassword) {
            problem("previousSentinelPassword", previousSentinelPassword, `is the same as a Redis password (${names.mention("redisPassword")} or ${names.mention("previousRedisPassword")}): a leaked Sentinel password would open the data`,
                `set it to the password the Sentinels run now, or ${names.unset("previousSentinelPassword")}`);
        }
    }
    return problems;
}
