/**
 * The waits the rollout, the handoff and the check share, run by bash: the cloud-init wait against a
 * stand-in `cloud-init` on PATH (the real one is proven by the VM test, where first boot runs for
 * real), and the bounded wait every cluster loop uses.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { WAIT_UNTIL_FUNCTION, waitForCloudInit } from "../../cloud-init/clusterShell";

function runWait(status: string | undefined): { status: number | null; stdout: string } {
    const bin = fs.mkdtempSync(path.join(os.tmpdir(), "redis-ha-cloud-init-"));
    try {
        if (status !== undefined) {
            // `status --wait` returns at once; `status` prints what first boot ended in.
            fs.writeFileSync(path.join(bin, "cloud-init"), `#!/bin/sh\necho "status: ${status}"\n`, { mode: 0o755 });
        }
        // PATH holds only what the wait runs besides cloud-init, so "no cloud-init" holds on any machine.
        for (const tool of ["timeout", "awk"]) {
            const found = spawnSync("sh", ["-c", `command -v ${tool}`], { encoding: "utf8" }).stdout.trim();
            fs.symlinkSync(found, path.join(bin, tool));
        }
        const script = `fail() { echo "FAIL $*"; exit 1; }
${waitForCloudInit(true, "5", 'fail "$unfinished: nothing was changed"')}
echo "went on"`;
        const result = spawnSync("/bin/bash", ["-s"], { input: script, encoding: "utf8", timeout: 30000, env: { PATH: bin } });
        return { status: result.status, stdout: result.stdout.trim() };
    } finally {
        fs.rmSync(bin, { recursive: true, force: true });
    }
}

describe("waitForCloudInit", () => {
    test("first boot done: the script goes on", () => {
        expect(runWait("done")).toEqual({ status: 0, stdout: "went on" });
    });

    test("first boot ended in error: the script stops, naming the status, the log and what it left alone", () => {
        expect(runWait("error")).toEqual({
            status: 1,
            stdout: "FAIL cloud-init status is error, not done (see /var/log/cloud-init-output.log): nothing was changed",
        });
    });

    test("a host without cloud-init (the lab's): nothing to wait for", () => {
        expect(runWait(undefined)).toEqual({ status: 0, stdout: "went on" });
    });

    test("a host not booted by cloud-init renders no wait at all", () => {
        expect(waitForCloudInit(false, "5", "fail")).not.toMatch(/cloud-init status/);
    });
});

describe("wait_until", () => {
    function runBash(body: string): { status: number | null; stdout: string } {
        const result = spawnSync("/bin/bash", ["-s"], { input: `${WAIT_UNTIL_FUNCTION}\n${body}`, encoding: "utf8", timeout: 30000 });
        return { status: result.status, stdout: result.stdout.trim() };
    }

    test("a condition that comes true: it goes on, and what the condition set is the caller's to print", () => {
        // Counts its own tries, so the result does not depend on how fast the machine is.
        const body = `tries=0
third_try() { tries=$((tries + 1)); seen="try $tries"; [ "$tries" -ge 3 ]; }
wait_until 60 third_try && echo "done after $seen"`;
        expect(runBash(body)).toEqual({ status: 0, stdout: "done after try 3" });
    });

    test("a condition that never comes: it gives up once its bound has passed, and the caller's message names the last state", () => {
        const body = `never() { state="still waiting"; false; }
wait_until 1 never || { echo "gave up: $state"; exit 3; }
echo "went on"`;
        expect(runBash(body)).toEqual({ status: 3, stdout: "gave up: still waiting" });
    });

    test("a bound already spent still tries once", () => {
        expect(runBash(`wait_until 0 true && echo "tried"`)).toEqual({ status: 0, stdout: "tried" });
    });
});
