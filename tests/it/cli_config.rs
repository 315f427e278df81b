//! `dsx config path | init | check`, a bad config file (reported, the
//! defaults used, the file left alone), and profiles against a dev server
//! that requires a token: from `auth_env`, and from an `auth_command` that
//! prints a new token after a 401.

use crate::support;

use std::path::Path;

use dsx::server::ServerConfig;
use support::TestServer;
use support::cli::{command, run};

const TOKEN: &str = "tok-9f3c2e-config-it";

async fn dsx_with(
    config: &Path,
    args: &[&str],
    env: &[(&str, &str)],
) -> support::Output {
    let mut cmd = command(args);
    cmd.env("DSX_CONFIG", config);
    for (name, value) in env {
        cmd.env(name, value);
    }
    run(cmd, None).await
}

#[tokio::test]
async fn config_path_init_and_check() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("xdg/dsx/config.toml");
    let out = dsx_with(&path, &["config", "path"], &[]).await;
    out.ok();
    assert_eq!(out.stdout.trim(), path.display().to_string());
    assert!(out.stderr.contains("config init"), "{out:?}");

    dsx_with(&path, &["config", "init"], &[]).await.ok();
    let written = std::fs::read_to_string(&path).expect("written");
    assert_eq!(written, include_str!("../../assets/config.toml"));
    std::fs::write(&path, "# mine\n").expect("write");
    let out = dsx_with(&path, &["config", "init"], &[]).await;
    out.expect_code(1);
    assert!(out.stderr.contains("--force"), "{out:?}");
    assert_eq!(std::fs::read_to_string(&path).expect("read"), "# mine\n");
    dsx_with(&path, &["config", "init", "--force"], &[])
        .await
        .ok();
    let out = dsx_with(&path, &["config", "check"], &[]).await;
    out.ok();
    assert!(out.stdout.contains(": ok"), "{out:?}");

    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "bogus = 1\n[tail]\nmax_bytes = \"x\"\n")
        .expect("write");
    let out =
        dsx_with(&path, &["config", "check", bad.to_str().unwrap()], &[]).await;
    out.expect_code(1);
    let shown = bad.display().to_string();
    for expected in [
        format!("{shown}:1:1: bogus: unknown key"),
        format!("{shown}:3:13: tail.max_bytes: expected an integer"),
        "2 problems".to_owned(),
    ] {
        assert!(out.stderr.contains(&expected), "{expected}\n{out:?}");
    }

    // `[keys]`: the names are checked too, each problem at its line.
    let keys = dir.path().join("keys.toml");
    std::fs::write(
        &keys,
        "[keys]\nglobal.quit = \"x\"\ntail.bokmark = \"M\"\n\
         [keys.streams]\nopen = \"n\"\n",
    )
    .expect("write");
    let out =
        dsx_with(&path, &["config", "check", keys.to_str().unwrap()], &[])
            .await;
    out.expect_code(1);
    let shown = keys.display().to_string();
    for expected in [
        format!("{shown}:3:6: keys.tail.bokmark: no action \"bokmark\""),
        format!("{shown}:5:1: keys.streams.open: Streams: n is already"),
        "2 problems".to_owned(),
    ] {
        assert!(out.stderr.contains(&expected), "{expected}\n{out:?}");
    }
}

/// A command with a bad config says so, one line per problem, and goes on
/// with the defaults; the file is never rewritten.
#[tokio::test]
async fn a_bad_config_is_reported_and_the_defaults_used() {
    let server = TestServer::start_embedded(ServerConfig {
        addr: "127.0.0.1:0".parse().unwrap(),
        ..ServerConfig::default()
    })
    .await;
    let dir = tempfile::tempdir().expect("tempdir");
    let bad = dir.path().join("config.toml");
    let text = "bogus = 1\nheaders = 3\n";
    std::fs::write(&bad, text).expect("write");
    let base = server.stream_base();
    let out = dsx_with(&bad, &[&base, "create", "bad-config"], &[]).await;
    out.ok();
    let problems: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.contains(&bad.display().to_string()))
        .collect();
    assert_eq!(problems.len(), 2, "{out:?}");
    assert!(out.stderr.contains("using defaults"), "{out:?}");
    assert_eq!(std::fs::read_to_string(&bad).expect("read"), text);
}

async fn auth_server() -> TestServer {
    TestServer::start_embedded(ServerConfig {
        addr: "127.0.0.1:0".parse().unwrap(),
        require_auth: Some(TOKEN.into()),
        ..ServerConfig::default()
    })
    .await
}

#[tokio::test]
async fn a_profile_with_auth_env_reaches_a_server_that_requires_it() {
    let server = auth_server().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[servers.dev]\nurl = \"{}\"\nauth_env = \"DSX_IT_TOKEN\"\n",
            server.stream_base()
        ),
    )
    .expect("write");
    let env = [("DSX_IT_TOKEN", TOKEN)];
    // A bare profile name where the URL goes, --profile, STREAM_PROFILE.
    dsx_with(&config, &["dev", "create", "env-auth"], &env)
        .await
        .ok();
    let out = dsx_with(
        &config,
        &["--profile", "dev", "append", "env-auth", "hi"],
        &env,
    )
    .await;
    out.ok();
    let out = dsx_with(
        &config,
        &["read", "env-auth"],
        &[("DSX_IT_TOKEN", TOKEN), ("STREAM_PROFILE", "dev")],
    )
    .await;
    out.ok();
    assert_eq!(out.stdout, "hi");
    let out =
        dsx_with(&config, &["head", "env-auth", "--profile", "dev"], &env)
            .await;
    out.ok();
    // Without the variable: said, before any request.
    let out =
        dsx_with(&config, &["--profile", "dev", "head", "env-auth"], &[]).await;
    out.expect_code(1);
    assert!(out.stderr.contains("DSX_IT_TOKEN"), "{out:?}");
    assert!(out.stderr.contains("not set"), "{out:?}");
    // Without the profile: the server refuses.
    let url = format!("{}/env-auth", server.stream_base());
    let out = dsx_with(&config, &["head", &url], &env).await;
    out.expect_code(5);
    assert!(out.stderr.contains("401"), "{out:?}");
    // An unknown name says which profiles there are.
    let out = dsx_with(&config, &["deb", "head", "env-auth"], &env).await;
    out.expect_code(1);
    assert!(
        out.stderr.contains("profiles in the config file: dev"),
        "{out:?}"
    );
}

/// The command prints a stale token first and the right one after: the
/// first request's 401 runs it again, once, and the command succeeds.
#[tokio::test]
async fn an_auth_command_runs_again_after_a_401() {
    let server = auth_server().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let runs = dir.path().join("runs");
    let script = dir.path().join("token.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\necho run >> '{}'\n\
             if [ $(wc -l < '{}') -eq 1 ]; then echo stale; else echo {TOKEN}; fi\n",
            runs.display(),
            runs.display()
        ),
    )
    .expect("write script");
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "default_server = \"cmd\"\n[servers.cmd]\nurl = \"{}\"\n\
             auth_command = [\"sh\", \"{}\"]\n",
            server.stream_base(),
            script.display()
        ),
    )
    .expect("write");
    // No URL, no --profile: the default profile.
    let out = dsx_with(&config, &["create", "cmd-auth"], &[]).await;
    out.ok();
    let count = std::fs::read_to_string(&runs)
        .expect("runs")
        .lines()
        .count();
    assert_eq!(count, 2, "run at the first request and after its 401");

    let failing = dir.path().join("failing.toml");
    std::fs::write(
        &failing,
        format!(
            "[servers.cmd]\nurl = \"{}\"\n\
             auth_command = [\"sh\", \"-c\", \"echo locked >&2; exit 4\"]\n",
            server.stream_base()
        ),
    )
    .expect("write");
    let out = dsx_with(&failing, &["cmd", "head", "cmd-auth"], &[]).await;
    out.expect_code(1);
    assert!(
        out.stderr.contains("auth_command of profile \"cmd\""),
        "{out:?}"
    );
    assert!(out.stderr.contains("locked"), "{out:?}");
}

/// The explorer with a bad config file: the first problem (file, line,
/// key) in the status bar, and the explorer works on with the defaults;
/// the file is left as it was.
/// (A PTY test: the real binary loads the file.)
#[test]
fn the_explorer_reports_a_bad_config_and_works_on() {
    use support::pty::{Key, Pty};
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let server = rt.block_on(TestServer::start_embedded(ServerConfig {
        addr: "127.0.0.1:0".parse().unwrap(),
        ..ServerConfig::default()
    }));
    let name = support::unique_name("badcfg");
    rt.block_on(async {
        let client = support::client();
        let stream = support::create_at(
            &client,
            &server.stream_url(&name),
            "application/json",
        )
        .await;
        support::append(&stream, r#"{"n":1}"#).await;
    });
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("c.toml");
    let text = "bogus = 1\n[tail]\nmax_bytes = 0\n";
    std::fs::write(&config, text).expect("write");
    // The server, not the stream: opening a stream at start changes the
    // context, which clears start-up notices (the explorer's rule).
    let url = server.stream_base();
    let mut pty = Pty::spawn_env(
        &[&url],
        160,
        30,
        dir.path(),
        &[("DSX_CONFIG", config.as_path())],
    );
    // Still an explorer: the stream is listed, opens and its message shows.
    pty.expect(&name[name.len() - 8..], "the stream list");
    // The notice was drawn at start; it may be off the screen again by
    // the time the list is there, so the terminal's bytes are searched.
    let raw = String::from_utf8_lossy(&pty.raw()).into_owned();
    for expected in ["config not loaded", "c.toml:1:1: bogus"] {
        assert!(raw.contains(expected), "{expected} drawn");
    }
    pty.key(Key::Enter);
    pty.expect("\"n\": 1", "the message, read with the defaults");
    pty.key(Key::Char('q'));
    pty.expect_clean_exit("the explorer quits");
    assert_eq!(std::fs::read_to_string(&config).expect("read"), text);
    drop(server);
}

/// `[keys]` takes effect in the explorer: `x` quits instead of `q`, and an
/// override that takes another action's key is said at start (file, line)
/// while the rest apply. (A PTY test: the real binary loads the file.)
#[test]
fn the_explorer_uses_the_config_keys() {
    use support::pty::{Key, Pty};
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let server = rt.block_on(TestServer::start_embedded(ServerConfig {
        addr: "127.0.0.1:0".parse().unwrap(),
        ..ServerConfig::default()
    }));
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("keys.toml");
    let text = "[keys]\nglobal.quit = \"x\"\ntail.bookmark = \"y\"\n";
    std::fs::write(&config, text).expect("write");
    let url = server.stream_base();
    let mut pty = Pty::spawn_env(
        &[&url],
        160,
        30,
        dir.path(),
        &[("DSX_CONFIG", config.as_path())],
    );
    // The footer shows the rebound key.
    pty.expect("x quit", "the footer from the effective keymap");
    let raw = String::from_utf8_lossy(&pty.raw()).into_owned();
    assert!(
        raw.contains("keys.toml:3:6: keys.tail.bookmark"),
        "the clash is said with its line: {}",
        raw.escape_debug()
    );
    // `q` no longer quits; `x` does.
    pty.key(Key::Char('?'));
    pty.wait_for(|s| s.contains("Streams pane") && s.contains("x quit · "))
        .unwrap_or_else(|last| panic!("help lists the rebound key:\n{last}"));
    pty.key(Key::Esc);
    pty.key(Key::Char('x'));
    pty.expect_clean_exit("x quits");
    drop(server);
}

/// `[theme] name = "light"` recolours the real explorer (its accent is
/// colour 25), and `--no-color` leaves no colour at all, whatever the
/// theme. (A PTY test: the real binary reads the file and the flag.)
#[test]
fn the_theme_and_no_color_reach_the_terminal() {
    use support::pty::{Key, Pty};
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let server = rt.block_on(TestServer::start_embedded(ServerConfig {
        addr: "127.0.0.1:0".parse().unwrap(),
        ..ServerConfig::default()
    }));
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("theme.toml");
    std::fs::write(&config, "[theme]\nname = \"light\"\n").expect("write");
    let url = server.stream_base();
    for no_color in [false, true] {
        let mut args = vec![url.as_str()];
        if no_color {
            args.push("--no-color");
        }
        let mut pty = Pty::spawn_env(
            &args,
            120,
            30,
            dir.path(),
            &[("DSX_CONFIG", config.as_path())],
        );
        pty.expect("Streams", "the explorer is up");
        pty.key(Key::Char('q'));
        pty.expect_clean_exit("the explorer quits");
        let raw = String::from_utf8_lossy(&pty.raw()).into_owned();
        // crossterm writes a palette colour as `38;5;N` (fg), `48;5;N` (bg).
        let light_accent = raw.contains("38;5;25m") || raw.contains("38;5;25;");
        if no_color {
            assert!(
                !raw.contains("38;5;") && !raw.contains("48;5;"),
                "a colour with --no-color"
            );
        } else {
            assert!(
                light_accent,
                "the light theme's accent: {}",
                raw.escape_debug()
            );
            // The dark theme's cyan accent (colour 6) is gone.
            assert!(!raw.contains("38;5;6;") && !raw.contains("38;5;6m"));
        }
    }
    drop(server);
}
