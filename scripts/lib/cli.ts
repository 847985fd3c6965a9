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
