//! The deployment files pass their static checks (`deploy/check.sh`: systemd-analyze
//! verify and security, shellcheck, logrotate -d, gcp.sh --dry-run). `.ci/run` installs
//! the tools.

#[test]
fn deploy_files_pass_their_checks() {
    let root = env!("CARGO_MANIFEST_DIR");
    for tool in ["systemd-analyze", "shellcheck", "logrotate"] {
        let found = std::process::Command::new("sh")
            .args(["-c", &format!("command -v {tool}")])
            .output()
            .unwrap();
        assert!(
            found.status.success(),
            "{tool} is missing: apt-get install systemd shellcheck logrotate (.ci/run does)"
        );
    }
    let out = std::process::Command::new(format!("{root}/deploy/check.sh"))
        .output()
        .expect("deploy/check.sh runs");
    assert!(
        out.status.success(),
        "deploy/check.sh failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
