import type { SettingProblem } from "./errors";
import { STACK_NAMES, SettingNames } from "./settingNames";
import { Ipv4Cidr, cidrsOverlap, parseCidr } from "./cidr";

export const CIDR_SETTINGS_MESSAGES = {
    adminCidrs: "203.0.113.10/32",
    appCidrs: "10.42.0.0/24",
    monitoringCidrs: "10.42.1.5/32",
} as const;

export type CidrSetting = keyof typeof CIDR_SETTINGS_MESSAGES;

/**
 * Problems in one list of allowed source CIDRs, in the words of the surface it came from: empty,
 * malformed or overlapping. How much of the Internet the lists admit is judged per port, over every
 * list that feeds it (publicExposureProblems in firewallPolicy.ts).
 */
export function checkCidrList(key: CidrSetting, cidrs: readonly string[], names: SettingNames = STACK_NAMES): SettingProblem[] {
    const at = (index: number) => `${names.mention(key)}[${index}]`;
    const showValue = (v: unknown) => JSON.stringify(v);
    const problems: SettingProblem[] = [];
    if (cidrs.length === 0) {
        problems.push({ setting: names.name(key), value: "[]", problem: "is empty, so nobody could connect", fix: `add at least one CIDR: ${names.add(key, CIDR_SETTINGS_MESSAGES[key])}` });
    }
    const parsed: Array<{ index: number; cidr: Ipv4Cidr }> = [];
    cidrs.forEach((text, index) => {
        const result = parseCidr(text);
        if (!result.ok) {
            problems.push({ setting: names.name(`${key}[${index}]`), value: showValue(text), problem: `is not a valid IPv4 CIDR: it ${result.reason}`, fix: "write it as a.b.c.d/prefix, e.g. 10.42.0.0/24 or 203.0.113.10/32" });
            return;
        }
        parsed.push({ index, cidr: result.cidr });
    });
    for (let i = 0; i < parsed.length; i++) {
        for (let j = i + 1; j < parsed.length; j++) {
            const [a, b] = [parsed[i], parsed[j]];
            if (cidrsOverlap(a.cidr, b.cidr)) {
                problems.push({
                    setting: names.name(`${key}[${b.index}]`),
                    value: showValue(cidrs[b.index]),
                    problem: `overlaps ${at(a.index)} (${cidrs[a.index]}), so one of them is redundant or a typo`,
                    fix: "remove the narrower one, or correct the typo",
                });
            }
        }
    }
    return problems;
}
