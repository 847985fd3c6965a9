/**
 * The script every host runs after a settings rollout to bring its password files along, run for
 * real as root: in a network namespace of its own, where Debian's exporter listens on its port, so
 * "restart the exporter whose file changed" is exercised on a real process and nothing else.
 */
import { ChildProcess, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { EXPORTER_BINARY } from "../../cloud-init/exporters";
import { HostCredentialsInput, renderHostCredentialsScript } from "../../cloud-init/hostCredentials";
import { READ_OPERATOR_CREDENTIALS } from "../../cloud-init/operatorCredentials";
import { waitFor } from "../../lab/drill";

const why = process.getuid?.() !== 0 ? "it needs root (a network namespace, chgrp)"
    : !fs.existsSync(EXPORTER_BINARY) ? `${EXPORTER_BINARY} is not installed (npm run setup installs it)`
    : spawnSync("getent", ["group", "prometheus"]).status !== 0 ? "there is no prometheus group (npm run setup installs Debian's exporter, which adds it)" : undefined;
if (why) console.warn(`\n!!! SKIPPED: the host credentials script did NOT run: ${why} !!!\n`);
const maybe = why ? describe.skip : describe;

maybe("the host's password files, after a rollout", () => {
    let dir: string;
    let netns: string;
    let exporter: ChildProcess | undefined;
    const files = () => ({ guard: path.join(dir, "sentinel-password"), redis: path.join(dir, "redis-exporter.json"), sentinel: path.join(dir, "sentinel-exporter.json"),
        unit: path.join(dir, "redis-exporter.service"), loginDropin: path.join(dir, "redis-exporter.service.d", "redis-ha-login.conf") });
    const input = (redis: string, sentinel: string): HostCredentialsInput => ({
        bootGuardSentinelPassword: sentinel,
        exporters: [
            { service: "redis", bindAddress: "127.0.0.1", port: 6379, password: redis },
            { service: "sentinel", bindAddress: "127.0.0.1", port: 26379, password: sentinel },
        ],
        bootGuardPasswordFile: files().guard,
        exporterPasswordFiles: { redis: files().redis, sentinel: files().sentinel },
        redisExporterUnit: { unit: files().unit, loginDropin: files().loginDropin },
    });
    const runScript = (script: string) => {
        const result = spawnSync("ip", ["netns", "exec", netns, "bash", "-s"], { input: script, encoding: "utf8", timeout: 20000 });
        return { status: result.status, lines: result.stdout.trim().split("\n"), stderr: result.stderr };
    };
    const listening = (port: number) => spawnSync("ip", ["netns", "exec", netns, "ss", "-ltnH", `sport = :${port}`], { encoding: "utf8" }).stdout.trim() !== "";

    beforeEach(async () => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "redis-ha-credentials-"));
        netns = `rha-cred-${process.pid}`;
        spawnSync("ip", ["netns", "add", netns]);
        spawnSync("ip", ["-n", netns, "link", "set", "lo", "up"]);
        fs.writeFileSync(files().guard, "old-Sentinel-Password-0123\n", { mode: 0o600 });
        // Its unit as first boot left it on a host made before the exporter user: no login drop-in.
        fs.writeFileSync(files().unit, "[Service]\n", { mode: 0o644 });
        for (const [file, port] of [[files().redis, 6379], [files().sentinel, 26379]] as const) {
            fs.writeFileSync(file, `{"redis://127.0.0.1:${port}":"old-Password-0123"}\n`, { mode: 0o640 });
        }
        // Only the Redis exporter runs here, so the script meets one that listens and one that does not.
        exporter = spawn("ip", ["netns", "exec", netns, EXPORTER_BINARY, "-web.listen-address", "127.0.0.1:9121", "-redis.addr", "redis://127.0.0.1:6379"], { stdio: "ignore" });
        await waitFor("the exporter to listen", () => listening(9121), 10000);
    });

    afterEach(() => {
        if (exporter?.exitCode === null && exporter.signalCode === null) exporter.kill("SIGKILL");
        spawnSync("ip", ["netns", "del", netns]);
        fs.rmSync(dir, { recursive: true, force: true });
    });

    test("rewrites each file whole with its owner group and mode, gives the Redis exporter its own login, restarts the exporter whose files changed, and does nothing the second time", async () => {
        const first = runScript(renderHostCredentialsScript(input("it's-a-new-Redis-Password", "new-Sentinel-Password-4567")));
        expect(first.stderr).toBe("");
        expect(first.lines).toEqual([
            "UPDATED boot guard password",
            "UPDATED redis exporter login",
            "UPDATED redis exporter password",
            "RESTARTED redis exporter",
            "UPDATED sentinel exporter password",
            "NOTRUNNING sentinel exporter: it reads the new file when it starts",
        ]);
        expect(first.status).toBe(0);
        // The drop-in systemd reads with the unit: the exporter's own user, and no CONFIG GET, which that user may not run.
        expect(fs.readFileSync(files().loginDropin, "utf8")).toBe("[Service]\nEnvironment=REDIS_USER=exporter\nEnvironment=REDIS_EXPORTER_CONFIG_COMMAND=-\n");
        expect(fs.statSync(files().loginDropin).mode & 0o777).toBe(0o644);
        expect(fs.readFileSync(files().guard, "utf8")).toBe("new-Sentinel-Password-4567\n");
        expect(JSON.parse(fs.readFileSync(files().redis, "utf8"))).toEqual({ "redis://127.0.0.1:6379": "it's-a-new-Redis-Password" });
        expect(JSON.parse(fs.readFileSync(files().sentinel, "utf8"))).toEqual({ "redis://127.0.0.1:26379": "new-Sentinel-Password-4567" });
        expect(fs.statSync(files().guard).mode & 0o777).toBe(0o600);
        const prometheus = Number(spawnSync("getent", ["group", "prometheus"], { encoding: "utf8" }).stdout.split(":")[2]);
        for (const f of [files().redis, files().sentinel]) expect({ mode: fs.statSync(f).mode & 0o777, gid: fs.statSync(f).gid }).toEqual({ mode: 0o640, gid: prometheus });
        // The exporter was stopped (its unit's Restart=always starts it again with the new file).
        await waitFor("the exporter to exit", () => exporter!.exitCode !== null || exporter!.signalCode !== null, 10000);
        expect(fs.readdirSync(dir).sort()).toEqual(["redis-exporter.json", "redis-exporter.service", "redis-exporter.service.d", "sentinel-exporter.json", "sentinel-password"]);

        exporter = spawn("ip", ["netns", "exec", netns, EXPORTER_BINARY, "-web.listen-address", "127.0.0.1:9121", "-redis.addr", "redis://127.0.0.1:6379"], { stdio: "ignore" });
        await waitFor("the exporter to listen again", () => listening(9121), 10000);
        const second = runScript(renderHostCredentialsScript(input("it's-a-new-Redis-Password", "new-Sentinel-Password-4567")));
        expect(second.lines).toEqual(["SAME boot guard password", "SAME redis exporter login", "SAME redis exporter password", "SAME sentinel exporter password"]);
        expect(listening(9121)).toBe(true);
    });

    test("a host created before it had exporters is left as it is", () => {
        fs.rmSync(files().redis);
        fs.rmSync(files().sentinel);
        const result = runScript(renderHostCredentialsScript(input("it's-a-new-Redis-Password", "new-Sentinel-Password-4567")));
        expect(result.lines).toEqual([
            "UPDATED boot guard password",
            "NOEXPORTER redis: this host was created without one",
            "NOEXPORTER sentinel: this host was created without one",
        ]);
        expect(result.status).toBe(0);
        expect(fs.existsSync(files().redis)).toBe(false);
        expect(listening(9121)).toBe(true);
    });

    test("an exporter whose unit is not where redis-ha put it keeps its login and its password file", () => {
        fs.rmSync(files().unit);
        const before = fs.readFileSync(files().redis, "utf8");
        const result = runScript(renderHostCredentialsScript(input("it's-a-new-Redis-Password", "new-Sentinel-Password-4567")));
        expect(result.lines.slice(0, 2)).toEqual(["UPDATED boot guard password", `NOUNIT redis exporter: no ${files().unit} here; it keeps the login it has`]);
        expect(result.status).toBe(0);
        expect(fs.readFileSync(files().redis, "utf8")).toBe(before);
        expect(fs.existsSync(files().loginDropin)).toBe(false);
        expect(listening(9121)).toBe(true);
    });

    test("a host made before the operator credentials gets them, 0600, in a form the scripts read back; a rotation rewrites them", () => {
        const operatorFile = path.join(dir, "operator.conf");
        const withOperator = (redis: string, sentinel: string) => renderHostCredentialsScript({ ...input(redis, sentinel), operator: { redisPassword: redis, sentinelPassword: sentinel }, operatorCredentialsPath: operatorFile });
        // What the checks do with the file: the same function, in the same shell.
        const readBack = () => spawnSync("bash", ["-c", `operator_file=${operatorFile}\n${READ_OPERATOR_CREDENTIALS}\nread_operator_credentials && printf '%s|%s\\n' "$redis_pass" "$sentinel_pass"`], { encoding: "utf8" }).stdout.trim();

        const first = runScript(withOperator("first-Redis-Password-0123", "first-Sentinel-Password-4567"));
        expect(first.lines[0]).toBe("UPDATED operator credentials");
        expect(first.status).toBe(0);
        expect({ mode: fs.statSync(operatorFile).mode & 0o777, uid: fs.statSync(operatorFile).uid }).toEqual({ mode: 0o600, uid: 0 });
        expect(readBack()).toBe("first-Redis-Password-0123|first-Sentinel-Password-4567");
        expect(runScript(withOperator("first-Redis-Password-0123", "first-Sentinel-Password-4567")).lines[0]).toBe("SAME operator credentials");

        const rotated = runScript(withOperator("second-Redis-Password-89ab", "first-Sentinel-Password-4567"));
        expect(rotated.lines[0]).toBe("UPDATED operator credentials");
        expect(readBack()).toBe("second-Redis-Password-89ab|first-Sentinel-Password-4567");
        // Sentinels without auth: no sentinel-password line, read back as none.
        runScript(withOperator("second-Redis-Password-89ab", ""));
        expect(readBack()).toBe("second-Redis-Password-89ab|");
    });
});
