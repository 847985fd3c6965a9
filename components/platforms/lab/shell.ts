/** Small wrappers around the commands the lab drives; every call is bounded in time. */
import { spawn, spawnSync } from "child_process";

export interface RunResult { status: number | null; stdout: string; stderr: string }

export class CommandError extends Error {
    constructor(readonly argv: string[], readonly result: RunResult) {
        super(`${argv.join(" ")} exited ${result.status}: ${(result.stderr || result.stdout).trim()}`);
    }
}

/** Runs a command to completion (default bound 30 s); throws with its stderr unless `allowFailure`. */
export function run(argv: string[], options: { input?: string; timeoutMs?: number; allowFailure?: boolean; env?: NodeJS.ProcessEnv } = {}): RunResult {
    const result = spawnSync(argv[0], argv.slice(1), {
        input: options.input,
        encoding: "utf8",
        timeout: options.timeoutMs ?? 30000,
        env: options.env ?? process.env,
    });
    const out: RunResult = { status: result.status, stdout: result.stdout ?? "", stderr: (result.stderr ?? "") + (result.error ? String(result.error) : "") };
    if (out.status !== 0 && !options.allowFailure) throw new CommandError(argv, out);
    return out;
}

/** The same, without blocking the event loop (clients in the test process keep running). */
export function runAsync(argv: string[], options: { input?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<RunResult> {
    return new Promise((resolve) => {
        const child = spawn(argv[0], argv.slice(1), { env: options.env ?? process.env, stdio: [options.input === undefined ? "ignore" : "pipe", "pipe", "pipe"] });
        let stdout = "";
        let stderr = "";
        child.stdout!.on("data", (d) => (stdout += d));
        child.stderr!.on("data", (d) => (stderr += d));
        const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 30000);
        child.on("close", (status) => {
            clearTimeout(timer);
            resolve({ status, stdout, stderr });
        });
        if (child.stdin) {
            // A child that exits before reading all of its input must not crash the caller with EPIPE.
            child.stdin.on("error", () => undefined);
            child.stdin.end(options.input);
        }
    });
}

export function commandExists(command: string): boolean {
    return spawnSync("sh", ["-c", `command -v ${command}`]).status === 0;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
