import { parse } from "yaml";
import { CLOUD_CONFIG_KEYS, PRIVATE_ADDRESS_PLACEHOLDER, renderCloudConfig } from "../../cloud-init/cloudConfig";
import { renderRedisConf } from "../../cloud-init/redisConf";
import { renderSentinelConf } from "../../cloud-init/sentinelConf";
import { OPERATOR_CREDENTIALS_FILE, renderOperatorCredentials } from "../../cloud-init/operatorCredentials";
import { REDIS_PASSWORD, SENTINEL_PASSWORD } from "../support/fixtures";
import { SENTINEL_ADMIN_USER, SENTINEL_CLIENT_RULES, aclPasswordHash, appPassword, exporterPassword, replicationPassword, sentinelClientPassword, sentinelUserPassword } from "../../components/core/aclUsers";
import { allHostVariants } from "../support/render";

const directives = (conf: string) => conf.split("\n").filter((l) => l && !l.startsWith("#"));

const REPLICA = {
    hostName: "rha-redis-1",
    zone: "eu-west-par-b",
    bindAddress: "10.42.0.12",
    port: 6379,
    role: "replica" as const,
    masterAddress: "10.42.0.11",
    password: REDIS_PASSWORD,
    legacyDefaultUser: false,
    app: { password: appPassword(REDIS_PASSWORD), scripting: true },
    sentinelUserPassword: sentinelUserPassword(REDIS_PASSWORD),
    replicationPassword: replicationPassword(REDIS_PASSWORD),
    exporterPassword: exporterPassword(REDIS_PASSWORD),
    persistence: "aof+rdb" as const,
    maxmemory: "1gb",
    maxmemoryPolicy: "noeviction" as const,
    minReplicasToWrite: 1,
    minReplicasMaxLag: 10,
};

describe("redis.conf", () => {
    test("binds to the private address and loopback, with auth, persistence and write safety", () => {
        const lines = directives(renderRedisConf(REPLICA));
        expect(lines).toEqual(expect.arrayContaining([
            "bind 10.42.0.12 127.0.0.1 -::1",
            "protected-mode yes",
            "masteruser replica",
            `masterauth ${replicationPassword(REDIS_PASSWORD)}`,
            "appendonly yes",
            "appendfsync everysec",
            "save 3600 1 300 100 60 10000",
            "replicaof 10.42.0.11 6379",
            "replica-priority 100",
            "min-replicas-to-write 1",
            "min-replicas-max-lag 10",
            "maxmemory 1gb",
            "maxmemory-policy noeviction",
        ]));
    });

    test("default is off: no requirepass, so the stack's password opens nothing without a user name; legacyDefaultUser gives it to default as before", () => {
        const lines = directives(renderRedisConf(REPLICA));
        expect(lines.filter((l) => l.startsWith("user default ") || l.startsWith("requirepass"))).toEqual(["user default reset"]);
        const legacy = directives(renderRedisConf({ ...REPLICA, legacyDefaultUser: true }));
        expect(legacy.filter((l) => l.startsWith("user default ") || l.startsWith("requirepass"))).toEqual([`requirepass ${REDIS_PASSWORD}`]);
    });

    test("the master has no replicaof line but keeps its replication login, since it may be demoted later; the stack's password is never masterauth", () => {
        const lines = directives(renderRedisConf({ ...REPLICA, role: "master", masterAddress: undefined }));
        expect(lines.some((l) => l.startsWith("replicaof"))).toBe(false);
        expect(lines).toEqual(expect.arrayContaining(["masteruser replica", `masterauth ${replicationPassword(REDIS_PASSWORD)}`]));
        expect(lines).not.toContain(`masterauth ${REDIS_PASSWORD}`);
    });

    test.each([
        ["aof+rdb", ["appendonly yes", "save 3600 1 300 100 60 10000"]],
        ["aof", ["appendonly yes", 'save ""']],
        ["rdb", ["appendonly no", "save 3600 1 300 100 60 10000"]],
        ["none", ["appendonly no", 'save ""']],
    ] as const)("persistence %s", (persistence, expected) => {
        expect(directives(renderRedisConf({ ...REPLICA, persistence }))).toEqual(expect.arrayContaining([...expected]));
    });

    test("the operator, app, Sentinels', replication and exporter users are defined by their passwords' hashes, never the passwords; the app loses scripting when told", () => {
        const app = appPassword(REDIS_PASSWORD);
        const sentinel = sentinelUserPassword(REDIS_PASSWORD);
        const replication = replicationPassword(REDIS_PASSWORD);
        const exporter = exporterPassword(REDIS_PASSWORD);
        const conf = renderRedisConf(REPLICA);
        const users = directives(conf).filter((l) => l.startsWith("user "));
        expect(users).toEqual([
            "user default reset",
            // The checks' and day-2 scripts' login: the stack's password, everything.
            `user operator reset on #${aclPasswordHash(REDIS_PASSWORD)} allkeys allchannels +@all`,
            expect.stringMatching(new RegExp(`^user app reset on #${aclPasswordHash(app)} ~\\* resetchannels .* \\+@all -@dangerous \\+info \\+role \\+flushdb$`)),
            // The Redis docs' ACL for Sentinel, on the hello channel only, and no key pattern at all.
            `user sentinel reset on #${aclPasswordHash(sentinel)} resetchannels &__sentinel__:hello +ping +info +role +subscribe +publish +client|setname +multi +exec +slaveof +config|rewrite +client|kill +script|kill`,
            // The Redis docs' ACL for a replica, and ROLE for the boot guard.
            `user replica reset on #${aclPasswordHash(replication)} +psync +replconf +ping +role`,
            // What the exporter reads, and nothing else: no key, no channel, no CONFIG GET (it shows masterauth).
            `user exporter reset on #${aclPasswordHash(exporter)} resetchannels -@all +ping +info +client|setname +latency|latest +slowlog|get +slowlog|len`,
        ]);
        for (const password of [app, sentinel, exporter]) {
            expect(conf).not.toContain(password);
            expect(password).not.toContain(REDIS_PASSWORD);
        }
        // masterauth is the one derived password a config holds in the clear (Redis sends it, so it must).
        expect(conf.split("\n").filter((l) => l.includes(replication))).toEqual([`masterauth ${replication}`]);
        expect(new Set([app, sentinel, replication, exporter]).size).toBe(4);
        expect(directives(renderRedisConf({ ...REPLICA, app: { ...REPLICA.app, scripting: false } })).find((l) => l.startsWith("user app "))).toMatch(/ -@scripting$/);
    });

    test("each directive appears once (a user line once per user)", () => {
        const names = directives(renderRedisConf(REPLICA)).map((l) => (l.startsWith("user ") ? l.split(" ").slice(0, 2).join(" ") : l.split(" ")[0]));
        expect(names.length).toBe(new Set(names).size);
    });

    test.each([
        ["a newline", "abcdefgh12345678\nreplicaof 6.6.6.6 6379"],
        ["a space", "abcdefgh 12345678"],
        ["a quote", 'abcdefgh"12345678'],
        ["a #", "abcdefgh#12345678"],
    ])("refuses to render a password with %s, whoever calls it", (_what, password) => {
        expect(() => renderRedisConf({ ...REPLICA, password })).toThrow(/refusing to render the Redis password/);
        expect(() => renderSentinelConf({ ...SENTINEL, sentinelPassword: password })).toThrow(/refusing to render the Sentinel password/);
    });
});

const SENTINEL = {
    hostName: "rha-redis-1",
    zone: "eu-west-par-b",
    bindAddress: "10.42.0.12",
    port: 26379,
    masterName: "redis-ha",
    masterAddress: "10.42.0.11",
    redisPort: 6379,
    quorum: 2,
    redisPassword: REDIS_PASSWORD,
    sentinelPassword: SENTINEL_PASSWORD,
    downAfterMilliseconds: 5000,
    failoverTimeoutMilliseconds: 60000,
    parallelSyncs: 1,
};

describe("sentinel.conf", () => {
    test("monitors the master with the quorum and authenticates both ways", () => {
        expect(directives(renderSentinelConf(SENTINEL))).toEqual(expect.arrayContaining([
            "bind 10.42.0.12 127.0.0.1 -::1",
            "port 26379",
            `sentinel sentinel-user ${SENTINEL_ADMIN_USER}`,
            `sentinel sentinel-pass ${SENTINEL_PASSWORD}`,
            "sentinel monitor redis-ha 10.42.0.11 6379 2",
            `sentinel auth-pass redis-ha ${REDIS_PASSWORD}`,
            "sentinel down-after-milliseconds redis-ha 5000",
            "sentinel failover-timeout redis-ha 60000",
            "sentinel parallel-syncs redis-ha 1",
            "sentinel deny-scripts-reconfig yes",
        ]));
    });

    test("apps ask as default with the client password, which may only read; the stack's password is admin's, by hash only", () => {
        const users = directives(renderSentinelConf(SENTINEL)).filter((l) => l.startsWith("user "));
        expect(users).toEqual([
            `user default reset on #${aclPasswordHash(sentinelClientPassword(SENTINEL_PASSWORD))} ${SENTINEL_CLIENT_RULES.join(" ")}`,
            `user ${SENTINEL_ADMIN_USER} reset on #${aclPasswordHash(SENTINEL_PASSWORD)} allkeys allchannels +@all`,
        ]);
        // Predis 2 cannot send a Sentinel a user name, so the apps' user is default; the requirepass a
        // Sentinel made before it had would set default's password again.
        expect(directives(renderSentinelConf(SENTINEL)).some((l) => l.startsWith("requirepass"))).toBe(false);
        expect(sentinelClientPassword(SENTINEL_PASSWORD)).not.toBe(SENTINEL_PASSWORD);
        expect(users.join("\n")).not.toContain(sentinelClientPassword(SENTINEL_PASSWORD));
    });

    test("without Sentinel auth: no users, no peer login, protected-mode off", () => {
        const lines = directives(renderSentinelConf({ ...SENTINEL, sentinelPassword: undefined }));
        expect(lines.filter((l) => /^user |sentinel-user|sentinel-pass|requirepass/.test(l))).toEqual([]);
        expect(lines).toContain("protected-mode no");
    });

    test("says it must never be re-rendered", () => {
        expect(renderSentinelConf(SENTINEL)).toMatch(/Sentinel rewrites this file at runtime\. Written once at first boot; never re-render it\./);
    });
});

describe("#cloud-config user-data", () => {
    const variants = allHostVariants();

    test.each(variants.map((v) => [v.label, v.files] as const))("%s: only known top-level keys, configs staged root-only", (_label, files) => {
        expect(files.userData.startsWith("#cloud-config\n")).toBe(true);
        const document = parse(files.userData);
        expect(Object.keys(document).sort()).toEqual([...CLOUD_CONFIG_KEYS].sort());
        for (const file of document.write_files) {
            if (/\.conf$/.test(file.path) && file.path.startsWith("/etc/redis-ha/")) expect(file.permissions).toBe("0600");
            // Written as YAML data, so the content survives byte for byte.
            if (file.path.endsWith("/redis.conf")) expect(file.content).toBe(files.redisConf);
            if (file.path.endsWith("/sentinel.conf")) expect(file.content).toBe(files.sentinelConf);
        }
        expect(document.runcmd).toEqual([["/usr/local/sbin/redis-ha-firstboot"]]);
    });

    test("every kind of host gets the operator credentials the checks log in with: root only, one line per stack password", () => {
        for (const { label, files } of variants) {
            const file = parse(files.userData).write_files.find((f: { path: string }) => f.path === OPERATOR_CREDENTIALS_FILE);
            expect({ label, owner: file?.owner, permissions: file?.permissions }).toEqual({ label, owner: "root:root", permissions: "0600" });
            // Then the passwords derived from them, which the check searches world-readable files for.
            expect(file.content.split("\n").filter((l: string) => l && !l.startsWith("#"))).toEqual([`redis-password ${REDIS_PASSWORD}`, `sentinel-password ${SENTINEL_PASSWORD}`,
                `derived-password app ${appPassword(REDIS_PASSWORD)}`, `derived-password sentinel ${sentinelUserPassword(REDIS_PASSWORD)}`, `derived-password replica ${replicationPassword(REDIS_PASSWORD)}`, `derived-password exporter ${exporterPassword(REDIS_PASSWORD)}`, `derived-password sentinel-default ${sentinelClientPassword(SENTINEL_PASSWORD)}`]);
        }
        // Sentinels without auth: no line, which the scripts read as no password.
        expect(renderOperatorCredentials({ redisPassword: REDIS_PASSWORD, sentinelPassword: "" })).not.toMatch(/sentinel-password|sentinel-default/);
        // A value that would add a line (or a second word) is refused, never written.
        expect(() => renderOperatorCredentials({ redisPassword: `${REDIS_PASSWORD}\nsentinel-password x`, sentinelPassword: SENTINEL_PASSWORD })).toThrow(/operator credentials' redis-password: it holds a line break/);
        expect(() => renderOperatorCredentials({ redisPassword: REDIS_PASSWORD, sentinelPassword: "two words" })).toThrow(/sentinel-password: it holds whitespace/);
    });

    test("installs only the packages a host needs", () => {
        const packages = Object.fromEntries(variants.map((v) => [v.label, parse(v.files.userData).packages]));
        expect(packages["colocated master"]).toEqual(["redis-server", "redis-sentinel", "redis-tools", "prometheus-redis-exporter"]);
        expect(packages["data node without Sentinel"]).toEqual(["redis-server", "redis-tools", "prometheus-redis-exporter"]);
        expect(packages["dedicated Sentinel"]).toEqual(["redis-sentinel", "redis-tools", "prometheus-redis-exporter"]);
    });

    test("an exporter beside each Redis and Sentinel: as user prometheus, on the private address only, the Redis one as the exporter user, its password in a file only that group reads", () => {
        const userData = (label: string) => parse(variants.find((v) => v.label === label)!.files.userData);
        const staged = (label: string, name: string) => userData(label).write_files.find((f: { path: string }) => f.path === `/etc/redis-ha/staged/${name}`);
        const unit = staged("colocated replica", "redis-exporter.service").content as string;
        expect(unit).toMatch(/^User=prometheus$/m);
        expect(unit).toMatch(/^ExecStart=\/usr\/bin\/prometheus-redis-exporter -redis\.addr redis:\/\/10\.42\.0\.12:6379 -redis\.password-file \/etc\/redis-ha\/redis-exporter\.json -web\.listen-address 10\.42\.0\.12:9121 /m);
        expect(unit).toMatch(/^Restart=always$/m);
        expect(staged("colocated replica", "sentinel-exporter.service").content).toContain("-redis.addr redis://10.42.0.12:26379 -redis.password-file /etc/redis-ha/sentinel-exporter.json -web.listen-address 10.42.0.12:9122 ");
        // The passwords wait root-only, like the configs.
        expect(staged("colocated replica", "redis-exporter.json")).toMatchObject({ permissions: "0600", content: `{"redis://10.42.0.12:6379":"${exporterPassword(REDIS_PASSWORD)}"}\n` });
        // Its login: a drop-in beside its unit, in place before first boot's daemon-reload; none for a Sentinel-only host.
        const loginDropin = (label: string) => userData(label).write_files.find((f: { path: string }) => f.path === "/etc/systemd/system/redis-ha-redis-exporter.service.d/redis-ha-login.conf");
        expect(loginDropin("colocated replica")).toMatchObject({ permissions: "0644", content: "[Service]\nEnvironment=REDIS_USER=exporter\nEnvironment=REDIS_EXPORTER_CONFIG_COMMAND=-\n" });
        expect(loginDropin("data node without Sentinel")).toBeDefined();
        expect(loginDropin("dedicated Sentinel")).toBeUndefined();
        expect(staged("colocated replica", "sentinel-exporter.json")).toMatchObject({ permissions: "0600", content: `{"redis://10.42.0.12:26379":"${sentinelClientPassword(SENTINEL_PASSWORD)}"}\n` });
        expect(staged("dedicated Sentinel", "redis-exporter.service")).toBeUndefined();
        expect(staged("data node without Sentinel", "sentinel-exporter.service")).toBeUndefined();
        const script = userData("colocated replica").write_files.find((f: { path: string }) => f.path === "/usr/local/sbin/redis-ha-firstboot").content as string;
        expect(script).toContain("systemctl mask --now prometheus-redis-exporter.service");
        expect(script).toContain('install -D -o root -g prometheus -m 0640 "$staged/redis-exporter.json" /etc/redis-ha/redis-exporter.json');
        expect(script).toContain("systemctl enable --now redis-ha-redis-exporter.service redis-ha-sentinel-exporter.service");
        // DigitalOcean: the exporters learn the address with the configs.
        expect(staged("DigitalOcean master", "redis-exporter.service").content).toContain(`-web.listen-address ${PRIVATE_ADDRESS_PLACEHOLDER}:9121`);
    });

    test("data nodes carry the boot guard, run before every redis-server start as root; Sentinel-only hosts do not", () => {
        const paths = (label: string) => parse(variants.find((v) => v.label === label)!.files.userData).write_files.map((f: { path: string; permissions: string }) => `${f.path} ${f.permissions}`);
        for (const label of ["colocated master", "colocated replica", "data node without Sentinel", "DigitalOcean master"]) {
            expect(paths(label)).toEqual(expect.arrayContaining([
                "/usr/local/sbin/redis-ha-boot-guard 0700",
                "/etc/systemd/system/redis-server.service.d/redis-ha-boot-guard.conf 0644",
                "/etc/redis-ha/sentinel-password 0600",
            ]));
        }
        expect(paths("dedicated Sentinel").join("\n")).not.toContain("boot-guard");
        const document = parse(variants[1].files.userData);
        const file = (p: string) => document.write_files.find((f: { path: string }) => f.path === p).content as string;
        expect(file("/etc/systemd/system/redis-server.service.d/redis-ha-boot-guard.conf")).toBe("[Service]\nExecStartPre=+/usr/local/sbin/redis-ha-boot-guard\n");
        expect(file("/usr/local/sbin/redis-ha-boot-guard")).toContain("candidates=('10.42.0.11:26379' '10.42.0.12:26379' '10.42.0.13:26379')");
    });

    test("OS tuning: overcommit, somaxconn and THP off", () => {
        const document = parse(variants[0].files.userData);
        const content = (p: string) => document.write_files.find((f: { path: string }) => f.path === p).content;
        expect(content("/etc/sysctl.d/60-redis-ha.conf")).toMatch(/^vm\.overcommit_memory = 1$/m);
        expect(content("/etc/sysctl.d/60-redis-ha.conf")).toMatch(/^net\.core\.somaxconn = 1024$/m);
        expect(content("/etc/systemd/system/redis-ha-thp.service")).toContain("echo never > /sys/kernel/mm/transparent_hugepage/enabled");
    });

    test("on DigitalOcean the configs carry the placeholder and first boot fills it from the metadata service", () => {
        const master = variants.find((v) => v.label === "DigitalOcean master")!.files;
        expect(master.redisConf).toContain(`bind ${PRIVATE_ADDRESS_PLACEHOLDER} 127.0.0.1`);
        expect(master.sentinelConf).toContain(`sentinel monitor redis-ha ${PRIVATE_ADDRESS_PLACEHOLDER} 6379 2`);
        const script = parse(master.userData).write_files.find((f: { path: string }) => f.path === "/usr/local/sbin/redis-ha-firstboot").content;
        expect(script).toContain("169.254.169.254/metadata/v1/interfaces/private/0/ipv4/address");
        expect(script).toContain(`sed -i "s/${PRIVATE_ADDRESS_PLACEHOLDER}/$address/g"`);
        const replica = variants.find((v) => v.label === "DigitalOcean replica")!.files;
        expect(replica.redisConf).toContain("replicaof 10.42.0.2 6379");
    });

    test("the first-boot script never touches a node that is already installed", () => {
        const script = parse(variants[1].files.userData).write_files.find((f: { path: string }) => f.path === "/usr/local/sbin/redis-ha-firstboot").content;
        const lines = script.split("\n");
        const guard = lines.findIndex((l: string) => l.includes("/var/lib/redis-ha/installed") && l.includes("exit 0"));
        const firstInstall = lines.findIndex((l: string) => l.startsWith("install "));
        expect(guard).toBeGreaterThan(0);
        expect(guard).toBeLessThan(firstInstall);
    });

    test("refuses a host with nothing to run", () => {
        expect(() => renderCloudConfig({ hostName: "x", sshAuthorizedKeys: [], operatorCredentials: "" })).toThrow(/needs Redis, Sentinel or both/);
    });

    test.each(variants.map((v) => [v.label, v.files] as const))("snapshot: %s", (_label, files) => {
        expect(files.userData).toMatchSnapshot();
    });
});
