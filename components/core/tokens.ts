import { randomBytes } from "crypto";

/**
 * Values that end up inside redis.conf / sentinel.conf must be single, unquoted tokens. Rather than
 * trust an escaping scheme that Redis's config parser, CONFIG REWRITE, YAML and a shell would all
 * have to agree on, we accept only characters that mean nothing special to any of them.
 */
const FORBIDDEN: ReadonlyArray<[RegExp, string]> = [
    [/[\r\n]/, "a line break, which would start a new directive in the config file"],
    [/\s/, "whitespace, which would split it into two config arguments"],
    [/["'`]/, "a quote, which the config parser would treat as the start of a quoted string"],
    [/\\/, "a backslash, which the config parser treats as an escape"],
    [/#/, "a '#', which starts a comment in the config file"],
    [/[^\x21-\x7e]/, "a control or non-ASCII character"],
];

/** Returns why the value cannot be written as one config token, or undefined when it can. */
export function checkConfigToken(value: string): string | undefined {
    for (const [pattern, why] of FORBIDDEN) {
        const at = value.search(pattern);
        if (at >= 0) return `holds ${why} (at character ${at + 1})`;
    }
    return value.length === 0 ? "is empty" : undefined;
}

/** The last line of defence in the renderers: refuse to write anything that could inject a line. */
export function configToken(what: string, value: string): string {
    const why = checkConfigToken(value);
    if (why) throw new Error(`refusing to render ${what}: it ${why}`);
    return value;
}

/** A password that passes validation: 32 characters of base64 with the symbols replaced. */
export function generatePassword(): string {
    return randomBytes(24).toString("base64").replace(/[+/=]/g, "x");
}
