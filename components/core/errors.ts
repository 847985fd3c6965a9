/**
 * One bad setting: which setting, the offending value (or a description of it, for secrets),
 * what is wrong, and what to do about it. Collected so a user sees every mistake in one preview.
 */
export interface SettingProblem {
    setting: string;
    /** Rendered value; secrets are described ("<secret, 9 characters>"), never echoed. */
    value: string;
    problem: string;
    fix: string;
}

export function formatProblem(p: SettingProblem): string {
    return `${p.setting} = ${p.value}: ${p.problem}. Fix: ${p.fix}`;
}

export class ConfigValidationError extends Error {
    constructor(readonly problems: SettingProblem[]) {
        super(
            `redis-ha: ${problems.length} invalid setting${problems.length === 1 ? "" : "s"}; nothing was created.\n` +
                problems.map((p) => `  - ${formatProblem(p)}`).join("\n"),
        );
        this.name = "ConfigValidationError";
    }
}

/** Renders a user value for an error message: JSON quoting makes whitespace and newlines visible. */
export function showValue(value: unknown): string {
    if (value === undefined) return "(unset)";
    return JSON.stringify(value);
}

export function describeSecret(value: string | undefined): string {
    return value === undefined || value === "" ? "(unset)" : `<secret, ${value.length} characters>`;
}
