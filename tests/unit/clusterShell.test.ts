/**
 * The cloud-init wait the rollout, the handoff and the check share, run by bash against a stand-in
 * `cloud-init` on PATH (the real one is proven by the VM test, where first boot runs for real).
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { waitForCloudInit } from "../../cloud-init/clusterShell";

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
