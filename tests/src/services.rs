//! Throwaway Postgres and Redis servers for fault tests, started from the binaries installed on
//! the machine on free loopback ports, so a test can pause, crash and restart them without
//! touching the shared services. Invariant: every process started here is killed when its
//! handle drops; a missing binary fails the test with a message saying what to install.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

fn scratch_dir(tag: &str) -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let dir = std::env::temp_dir().join(format!("stampede-{tag}-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("create a scratch directory");
    dir
}

fn wait_for_port(port: u16, what: &str) {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "{what} did not listen on {port} within 30 s"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn signal(pid: u32, sig: &str) {
    let _ = Command::new("kill").args([sig, &pid.to_string()]).status();
}

/// Direct children of `pid` (Postgres backends of a postmaster), from /proc.
fn children(pid: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|p| {
            std::fs::read_to_string(format!("/proc/{p}/stat"))
                .ok()
                .is_some_and(|s| {
                    // Field 4 (after the parenthesised name) is the parent pid.
                    s.rsplit_once(')')
                        .and_then(|(_, rest)| rest.split_whitespace().nth(1)?.parse::<u32>().ok())
                        == Some(pid)
                })
        })
        .collect()
}

/// A Postgres cluster of the test's own.
#[derive(Debug)]
pub struct ThrowawayPostgres {
    dir: PathBuf,
    bin: PathBuf,
    port: u16,
    child: Option<Child>,
}

impl ThrowawayPostgres {
    /// `initdb` and start a cluster (as the `postgres` user when running as root, which
    /// Postgres refuses to run as).
    ///
    /// # Panics
    /// When the Postgres server binaries are not installed or the cluster does not start.
    pub fn start() -> Self {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .ok()
            .and_then(|d| d.filter_map(|e| e.ok()).map(|e| e.path().join("bin")).max())
            .filter(|b| b.join("postgres").exists())
            .expect("Postgres server binaries under /usr/lib/postgresql/*/bin (apt-get install postgresql)");
        let dir = scratch_dir("pg");
        let _ = Command::new("chown")
            .args(["-R", "postgres:postgres"])
            .arg(&dir)
            .status();
        let data = dir.join("data");
        let ok = as_postgres(&bin.join("initdb"))
            .args(["-A", "trust", "-U", "postgres", "--no-sync", "-D"])
            .arg(&data)
            .stdout(Stdio::null())
            .status()
            .expect("run initdb")
            .success();
        assert!(ok, "initdb failed in {}", data.display());
        let mut pg = Self {
            dir,
            bin,
            port: free_port(),
            child: None,
        };
        pg.restart();
        pg
    }

    /// `postgres://…/postgres` on this cluster.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    fn data(&self) -> PathBuf {
        self.dir.join("data")
    }

    /// (Re)starts the server on the same port and data (crash recovery runs if needed).
    pub fn restart(&mut self) {
        let log =
            std::fs::File::create(self.dir.join(format!("log-{}", self.port))).expect("a log file");
        let child = as_postgres(&self.bin.join("postgres"))
            .arg("-D")
            .arg(self.data())
            .args(["-p", &self.port.to_string(), "-k"])
            .arg(&self.dir)
            .args(["-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"])
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start postgres");
        self.child = Some(child);
        wait_for_port(self.port, "the throwaway Postgres");
    }

    /// The postmaster's pid (from its pid file: the child we spawned may be `runuser`).
    fn postmaster(&self) -> Option<u32> {
        std::fs::read_to_string(self.data().join("postmaster.pid"))
            .ok()?
            .lines()
            .next()?
            .trim()
            .parse()
            .ok()
    }

    fn all_pids(&self) -> Vec<u32> {
        let Some(pm) = self.postmaster() else {
            return Vec::new();
        };
        let mut pids = vec![pm];
        pids.extend(children(pm));
        pids
    }

    /// SIGSTOP the postmaster and every backend: the server stops answering, connections stay
    /// open (a paused VM, a stalled disk).
    pub fn pause(&self) {
        for pid in self.all_pids() {
            signal(pid, "-STOP");
        }
    }

    /// SIGCONT what `pause` stopped.
    pub fn resume(&self) {
        for pid in self.all_pids() {
            signal(pid, "-CONT");
        }
    }

    /// SIGKILL the postmaster and every backend (a crash), then wait for them to be gone.
    pub fn crash(&mut self) {
        let pids = self.all_pids();
        for &pid in &pids {
            signal(pid, "-KILL");
        }
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while pids
            .iter()
            .any(|p| Path::new(&format!("/proc/{p}")).exists())
            && std::time::Instant::now() < deadline
        {
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for ThrowawayPostgres {
    fn drop(&mut self) {
        self.resume();
        self.crash();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn as_postgres(program: &Path) -> Command {
    // Root is uid 0; asking `id -u` avoids a libc dependency for one check.
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0"));
    if root {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    }
}

/// A Redis server of the test's own (no persistence: a restart comes back empty).
#[derive(Debug)]
pub struct ThrowawayRedis {
    port: u16,
    child: Option<Child>,
}

impl ThrowawayRedis {
    /// Starts `redis-server` on a free port.
    ///
    /// # Panics
    /// When `redis-server` is not installed or does not start.
    pub fn start() -> Self {
        let mut r = Self {
            port: free_port(),
            child: None,
        };
        r.restart();
        r
    }

    /// `redis://127.0.0.1:PORT/0`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    /// Starts it again, empty, on the same port.
    pub fn restart(&mut self) {
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server (apt-get install redis-server)");
        self.child = Some(child);
        wait_for_port(self.port, "the throwaway Redis");
    }

    /// FLUSHALL, spoken in RESP over a plain socket.
    ///
    /// # Panics
    /// When Redis does not answer `+OK`.
    pub fn flushall(&self) {
        use std::io::{Read, Write};
        let mut s =
            std::net::TcpStream::connect(("127.0.0.1", self.port)).expect("connect to Redis");
        s.set_read_timeout(Some(Duration::from_secs(5)))
            .expect("timeout");
        s.write_all(b"*1\r\n$8\r\nFLUSHALL\r\n")
            .expect("send FLUSHALL");
        let mut reply = [0u8; 5];
        s.read_exact(&mut reply).expect("FLUSHALL reply");
        assert_eq!(&reply, b"+OK\r\n");
    }

    /// SIGKILL.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for ThrowawayRedis {
    fn drop(&mut self) {
        self.kill();
    }
}
