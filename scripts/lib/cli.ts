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
