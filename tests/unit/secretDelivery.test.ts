/**
 * Secrets out of the user-data (secretsDelivery ssh): what the user-data of every kind of host holds
 * in their place, and the delivery step, run for real as root on files as first boot leaves them.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse } from "yaml";
import { FIRST_BOOT_SCRIPT, cloudConfigDocument } from "../../cloud-init/cloudConfig";
import { HostSecret, SECRET_TOKEN_PREFIX, completeSecrets, hostSecrets, renderSecretDeliveryScript, withholdSecrets } from "../../cloud-init/secretDelivery";
import { labFirstBoot } from "../../components/platforms/lab/machine";
import { CONFIG, SECRETS, allHostVariants } from "../support/render";

type WrittenFile = { path: string; owner: string; permissions: string; content: string };
const filesOf = (userData: string): WrittenFile[] => parse(userData).write_files;

describe("the user-data with secretsDelivery ssh", () => {
    const withheld = allHostVariants({ ...CONFIG, secretsDelivery: "ssh" });
    const carried = allHostVariants(CONFIG);
    const secrets = hostSecrets(SECRETS);

    test("holds no password of the stack, base or derived, on any kind of host", () => {
        expect(secrets.map((s) => s.value)).toEqual(expect.arrayContaining([SECRETS.redisPassword, SECRETS.sentinelPassword]));
        for (const { label, files } of withheld) {
            expect({ label, found: secrets.filter((s) => files.userData.includes(s.value)).map((s) => s.token) }).toEqual({ label, found: [] });
        }
        // The user-data mode does carry them: the test looks for the right strings.
        for (const { label, files } of carried) expect({ label, carries: secrets.some((s) => files.userData.includes(s.value)) }).toEqual({ label, carries: true });
    });

    test("holds every file of the user-data mode, the same but for tokens where the passwords go, each root-only", () => {
        for (const [i, { label, files }] of withheld.entries()) {
            const mine = filesOf(files.userData);
            const theirs = filesOf(carried[i].files.userData);
            expect(mine.map((f) => [f.path, f.owner, f.permissions])).toEqual(theirs.map((f) => [f.path, f.owner, f.permissions]));
            for (const [j, file] of mine.entries()) {
                if (file.path === FIRST_BOOT_SCRIPT) continue;
                expect({ label, path: file.path, content: completeSecrets(file.content, secrets) }).toEqual({ label, path: file.path, content: theirs[j].content });
            }
            const awaiting = mine.filter((f) => f.path !== FIRST_BOOT_SCRIPT && f.content.includes(SECRET_TOKEN_PREFIX));
            expect(files.awaitingSecrets).toEqual(awaiting.map((f) => f.path));
            expect(awaiting.every((f) => f.owner === "root:root" && f.permissions === "0600")).toBe(true);
            expect(files.awaitingSecrets).toContain("/etc/redis-ha/operator.conf");
            expect(carried[i].files.awaitingSecrets).toEqual([]);
        }
    });

    test("has a first boot that installs nothing while a token is left", () => {
        for (const { files } of withheld) {
            const firstBoot = filesOf(files.userData).find((f) => f.path === FIRST_BOOT_SCRIPT)!.content.split("\n");
            const wait = firstBoot.findIndex((l) => l.startsWith("if grep -qsF -- '@REDIS_HA_SECRET_'"));
            expect(wait).toBeGreaterThan(0);
            for (const file of files.awaitingSecrets) expect(firstBoot[wait]).toContain(`'${file}'`);
            expect(firstBoot[wait]).toMatch(/; exit 0; fi$/);
            // Before anything it installs or starts; the packages' stock services are stopped while it waits.
            expect(firstBoot.slice(0, wait).filter((l) => /^(install|systemctl|sysctl|sed) /.test(l))).toEqual(["systemctl stop redis-sentinel.service redis-server.service 2>/dev/null || true"]);
        }
    });

    test("is refused rather than rendered wrong: a file that already holds a token, or a password left in a file that is not root-only", () => {
        const table: HostSecret[] = [{ token: "@REDIS_HA_SECRET_X@", value: "x-password-0123456789" }];
        expect(() => withholdSecrets("a @REDIS_HA_SECRET_Y@ b", table, "f")).toThrow(/already holds @REDIS_HA_SECRET_/);
        expect(withholdSecrets("auth x-password-0123456789\n", table, "f")).toBe("auth @REDIS_HA_SECRET_X@\n");
        // The delivery keeps a file's owner and mode: a password may wait only in a root-only file.
        const input = { hostName: "h", sshAuthorizedKeys: [], sentinelConf: "port 26379\n", operatorCredentials: "redis-password x-password-0123456789\n", withheldSecrets: table };
        expect(cloudConfigDocument(input).awaitingSecrets).toEqual(["/etc/redis-ha/operator.conf"]);
        expect(() => cloudConfigDocument({ ...input, bootGuard: { script: "#!/bin/bash\n# x-password-0123456789\n", sentinelPassword: "" } }))
            .toThrow("h: /usr/local/sbin/redis-ha-boot-guard would hold a password without being root-only");
    });
});

const why = process.getuid?.() !== 0 ? "it needs root (chown to keep each file's owner)" : undefined;
if (why) console.warn(`\n!!! SKIPPED: the secret delivery script did NOT run: ${why} !!!\n`);
(why ? describe.skip : describe)("the delivery step, on a host as first boot left it", () => {
    let dir: string;
    // Characters a password may hold that bash or sed would read as syntax.
    const tricky: HostSecret[] = [
        { token: "@REDIS_HA_SECRET_REDIS@", value: "Rp&w$(touch${IFS}pwned)*?[a]|;/%{x}~" },
        { token: "@REDIS_HA_SECRET_REPLICATION@", value: "replication-0123456789_-AZaz" },
    ];
    const paths = () => ({ conf: path.join(dir, "staged", "redis.conf"), credentials: path.join(dir, "operator.conf"), exporter: path.join(dir, "staged", "redis-exporter.json"),
        firstBoot: path.join(dir, "firstboot"), marker: path.join(dir, "installed"), log: path.join(dir, "firstboot.log") });
    const originals = () => ({
        conf: "bind 10.0.0.1\nmasterauth @REDIS_HA_SECRET_REPLICATION@\n",
        credentials: "redis-password @REDIS_HA_SECRET_REDIS@\nagain @REDIS_HA_SECRET_REDIS@\n\n",
        exporter: '{"redis://10.0.0.1:6379":"@REDIS_HA_SECRET_REDIS@"}',
    });
    const deliver = (files = [paths().conf, paths().credentials, paths().exporter]) => {
        const script = renderSecretDeliveryScript({ hostName: "h1", secrets: tricky, files, firstBoot: paths().firstBoot, installedMarker: paths().marker, stagingDir: path.join(dir, "staged"), waitForCloudInit: false, timeoutSeconds: 30 });
        const result = spawnSync("bash", ["-s"], { input: script, encoding: "utf8", timeout: 20000, cwd: dir });
        return { status: result.status, lines: result.stdout.trim().split("\n"), out: result.stdout + result.stderr };
    };

    beforeEach(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "redis-ha-secrets-"));
        fs.mkdirSync(path.join(dir, "staged"));
        const p = paths();
        const o = originals();
        fs.writeFileSync(p.conf, o.conf, { mode: 0o600 });
        fs.writeFileSync(p.credentials, o.credentials, { mode: 0o600 });
        fs.writeFileSync(p.exporter, o.exporter, { mode: 0o640 });
        fs.chownSync(p.exporter, 0, 1);
        // Stands for the first-boot script: it records what it found, and marks the host installed.
        fs.writeFileSync(p.firstBoot, `#!/bin/bash\ncat '${p.conf}' > '${p.log}'\necho "first boot ran"\ndate > '${p.marker}'\n`, { mode: 0o700 });
    });
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    test("puts every password where its token is, keeps each file's owner and mode, then runs first boot; a rerun finds the host installed", () => {
        const p = paths();
        const o = originals();
        const first = deliver();
        expect(first.status).toBe(0);
        expect(first.lines).toEqual([`COMPLETED ${p.conf}`, `COMPLETED ${p.credentials}`, `COMPLETED ${p.exporter}`, "first boot ran", "DELIVERED h1", "RESULT ok"]);
        expect(fs.readFileSync(p.conf, "utf8")).toBe(completeSecrets(o.conf, tricky));
        expect(fs.readFileSync(p.credentials, "utf8")).toBe(`redis-password ${tricky[0].value}\nagain ${tricky[0].value}\n\n`);
        expect(fs.readFileSync(p.exporter, "utf8")).toBe(completeSecrets(o.exporter, tricky));
        expect((fs.statSync(p.conf).mode & 0o777).toString(8)).toBe("600");
        expect([(fs.statSync(p.exporter).mode & 0o777).toString(8), fs.statSync(p.exporter).gid]).toEqual(["640", 1]);
        // First boot ran after the files were complete; nothing of the password was run as code.
        expect(fs.readFileSync(p.log, "utf8")).toBe(completeSecrets(o.conf, tricky));
        expect(fs.existsSync(path.join(dir, "pwned"))).toBe(false);
        // Never printed.
        for (const s of tricky) expect(first.out).not.toContain(s.value);

        const again = deliver();
        expect(again.status).toBe(0);
        expect(again.lines[0]).toMatch(/^SAME h1 installed .*: its files hold their passwords$/);
        expect(again.lines.slice(1)).toEqual(["RESULT ok"]);
    });

    test("a file first boot did not leave, or a token it has no password for, fails it naming the file, before first boot runs", () => {
        const p = paths();
        const missing = deliver([p.conf, path.join(dir, "staged", "sentinel.conf")]);
        expect(missing.status).toBe(1);
        expect(missing.lines).toContain(`FAIL ${path.join(dir, "staged", "sentinel.conf")} is missing: the user-data did not stage it (first boot not run, or a host made otherwise)`);
        expect(missing.out).toContain("redis-ha secret delivery failed on h1");
        fs.appendFileSync(p.credentials, "exporter @REDIS_HA_SECRET_EXPORTER@\n");
        const unknown = deliver();
        expect(unknown.status).toBe(1);
        expect(unknown.lines).toContain(`FAIL ${p.credentials} holds a token this delivery has no password for`);
        expect(fs.existsSync(p.marker)).toBe(false);
    });

    test("a host whose first boot ran before there was a marker (no staged files left) has nothing to deliver", () => {
        fs.rmSync(path.join(dir, "staged"), { recursive: true });
        const result = deliver();
        expect(result.status).toBe(0);
        expect(result.lines).toEqual(["SAME h1 installed before, its staged files gone: its files hold their passwords", "RESULT ok"]);
        expect(fs.readFileSync(paths().credentials, "utf8")).toBe(originals().credentials);
    });
});

describe("the lab's cut of the first-boot script", () => {
    test("keeps what installs the staged files and marks the host installed, leaves out systemd and the kernel, and refuses a line it does not know", () => {
        for (const { label, files } of allHostVariants({ ...CONFIG, secretsDelivery: "ssh" }).filter((v) => !v.label.startsWith("DigitalOcean"))) {
            const script = filesOf(files.userData).find((f) => f.path === FIRST_BOOT_SCRIPT)!.content;
            const lab = labFirstBoot(script).split("\n");
            expect({ label, runs: lab.filter((l) => /^(systemctl|sysctl) /.test(l)) }).toEqual({ label, runs: [] });
            expect(lab.filter((l) => l.startsWith("install ")).length).toBeGreaterThan(0);
            expect(lab).toContain('rm -rf "$staged"');
        }
        expect(() => labFirstBoot("#!/bin/bash\ncurl http://169.254.169.254/\n")).toThrow(/a line the lab cannot place .*: curl/);
    });
});
