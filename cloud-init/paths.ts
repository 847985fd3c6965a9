/** Where Debian's redis-server and redis-sentinel packages keep their files; the lab points these elsewhere. */
export interface RedisPaths {
    redisConf: string;
    sentinelConf: string;
    dataDir: string;
    sentinelDir: string;
    redisLog: string;
    sentinelLog: string;
    redisPid: string;
    sentinelPid: string;
    /** `systemd` on a VM (Debian's units use Type=notify); `no` where nothing supervises the process. */
    supervised: "systemd" | "no";
}

export const DEBIAN_PATHS: RedisPaths = {
    redisConf: "/etc/redis/redis.conf",
    sentinelConf: "/etc/redis/sentinel.conf",
    dataDir: "/var/lib/redis",
    sentinelDir: "/var/lib/redis",
    redisLog: "/var/log/redis/redis-server.log",
    sentinelLog: "/var/log/redis/redis-sentinel.log",
    redisPid: "/run/redis/redis-server.pid",
    sentinelPid: "/run/sentinel/redis-sentinel.pid",
    supervised: "systemd",
};
