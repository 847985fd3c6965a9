import { ParseArgsConfig, parseArgs } from "node:util";

/** Runs a command-line entry point: exits with its code, or prints the error (message only) and exits with `failureCode`. */
export function runMain(main: () => Promise<number>, failureCode = 1): void {
    main().then(
        (code) => process.exit(code),
        (e) => {
            console.error(e instanceof Error ? e.message : String(e));
            process.exit(failureCode);
        },
    );
}

/** A comma-separated option value, each item one of `allowed`; an unknown one is an error naming the choices. */
export function listOf<T extends string>(what: string, text: string, allowed: readonly T[]): T[] {
    const items = text.split(",").map((s) => s.trim()).filter(Boolean);
    const bad = items.filter((i) => !allowed.includes(i as T));
    if (bad.length > 0) throw new Error(`unknown ${what} ${bad.join(", ")}; choose from ${allowed.join(", ")}`);
    return items as T[];
}

/**
 * node:util's parseArgs (strict: an unknown option, a missing value or a stray word is an error),
 * with the error in one line that ends with the command's usage.
 */
export function parseCommandLine<T extends ParseArgsConfig>(config: T, usage: string): ReturnType<typeof parseArgs<T>> {
    try {
        return parseArgs<T>(config);
    } catch (e) {
        throw new Error(`${(e as Error).message.split("\n")[0]}; usage: ${usage}`);
    }
}

/** A whole number in 0..max from an option's text, or an error naming the option. */
export function countOption(name: string, text: string | undefined, fallback: number, max: number): number {
    if (text === undefined) return fallback;
    const n = Number(text);
    if (!Number.isInteger(n) || n < 0 || n > max) throw new Error(`--${name} ${JSON.stringify(text)}: must be a whole number from 0 to ${max}`);
    return n;
}
