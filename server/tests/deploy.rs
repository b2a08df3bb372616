//! Deployment files: `.env.example` lists every setting the server reads, and
//! `docker-compose.yml` is valid for Docker Compose (checked with Debian's `docker-compose
//! config -q`; no Docker engine runs here, so the stack itself is not started).

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");

/// Every `env = "NAME"` in the server's settings and commands.
fn env_names() -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for file in ["server/src/config.rs", "server/src/cli/mod.rs"] {
        let src = std::fs::read_to_string(Path::new(ROOT).join(file)).unwrap();
        for chunk in src.split("env = \"").skip(1) {
            names.insert(chunk.split('"').next().unwrap().to_owned());
        }
    }
    names
}

#[test]
fn env_example_lists_every_setting() {
    let example = std::fs::read_to_string(Path::new(ROOT).join(".env.example")).unwrap();
    let names = env_names();
    assert!(names.len() >= 20, "the scan found the settings: {names:?}");
    for name in names {
        assert!(
            example.contains(&format!("{name}=")),
            ".env.example does not list {name}"
        );
    }
}

#[test]
fn compose_file_is_valid() {
    // A scratch copy with .env.example as .env: `env_file: .env` must exist to validate.
    let dir = std::env::temp_dir().join(format!("stampede-compose-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (from, to) in [
        ("docker-compose.yml", "docker-compose.yml"),
        (".env.example", ".env"),
        ("Dockerfile", "Dockerfile"),
    ] {
        std::fs::copy(Path::new(ROOT).join(from), dir.join(to)).unwrap();
    }
    let out = Command::new("docker-compose")
        .args(["config", "-q"])
        .current_dir(&dir)
        .output()
        .unwrap_or_else(|e| {
            panic!("docker-compose is needed to check the compose file ({e}): apt-get install docker-compose")
        });
    assert!(
        out.status.success(),
        "docker-compose config rejected the file:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = Command::new("docker-compose")
        .arg("config")
        .current_dir(&dir)
        .output()
        .unwrap();
    let resolved = String::from_utf8_lossy(&out.stdout);
    for needle in [
        "service_healthy",
        "pg_isready",
        "redis-cli",
        "healthcheck",
        "DATABASE_URL: postgres://",
    ] {
        assert!(
            resolved.contains(needle),
            "the resolved compose file lacks {needle}:\n{resolved}"
        );
    }
}
