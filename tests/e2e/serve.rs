//! `nanoshop serve` is safe by default: it serves other machines only when told to with
//! `--public`, and then without `POST /dev/token` (which mints admin tokens for anyone who asks)
//! or `POST /dev/payments/{id}/confirm` (which pays any order through the simulator);
//! and it never takes a live Stripe key. Run through the real binary, as a merchant would.

use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::support::workspace_binary;
use crate::wire::Server;

/// `nanoshop serve` with `args` and `env`, which must exit by itself within 30 s; its output.
fn serve_exiting(args: &[&str], env: &[(&str, &str)]) -> (Output, std::path::PathBuf) {
    let data = std::env::temp_dir().join(format!("nanoshop-serve-refusal-{}-{}", std::process::id(), args.join("_")));
    let mut child = Command::new(workspace_binary("nanoshop"))
        .args(["serve", "--no-seed", "--storefront", "/nonexistent", "--data-dir"])
        .arg(&data)
        .args(args)
        .envs(env.iter().copied())
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            let _ = std::fs::remove_dir_all(&data);
            panic!("nanoshop serve {args:?} kept running: it should have refused to start");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    (child.wait_with_output().unwrap(), data)
}

fn dev_token(server: &Server) -> Option<u16> {
    let body = r#"{"sub":"intruder","admin":true}"#;
    let request = format!(
        "POST /dev/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    server.exchange(request.as_bytes()).0
}

#[test]
fn serve_refuses_an_address_other_machines_reach_unless_public_is_given() {
    for addr in ["0.0.0.0:0", "[::]:0"] {
        let (output, data) = serve_exiting(&["--addr", addr], &[]);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{addr}: exited {:?}", output.status);
        assert!(stderr.contains("--public") && stderr.contains("/dev/token"), "{addr}: {stderr}");
        assert!(!data.exists(), "{addr}: refused before it created anything");
    }
}

/// The simulator's confirm route with a body of the wrong shape: 422 `invalid_body` where it is
/// mounted, 404 where it is not. (With a right one it would pay the order of the intent named.)
fn dev_confirm(server: &Server) -> Option<u16> {
    let body = r#"{"card":"4242424242424242","amount":1}"#;
    let request = format!(
        "POST /dev/payments/pi_sim_1/confirm HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    server.exchange(request.as_bytes()).0
}

#[test]
fn with_public_serve_listens_on_every_interface_without_dev_routes() {
    let public = Server::start_with(&["--addr", "0.0.0.0:0", "--public"], &[]);
    assert_eq!(dev_token(&public), Some(404), "no one may mint an admin token from the network");
    let (status, _) = public.exchange(b"GET /products HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert_eq!(status, Some(200), "the shop itself is served");
    // On loopback, as developers run it, /dev/token and the simulator's confirm are there.
    let local = Server::start_with(&["--addr", "127.0.0.1:0"], &[]);
    assert_eq!(dev_token(&local), Some(200));
    assert_eq!(dev_confirm(&local), Some(422));
    assert_eq!(dev_confirm(&public), Some(404), "no one may pay an order through the simulator from the network");
}

#[test]
fn serve_refuses_live_stripe_keys() {
    for key in ["sk_live_51Hserve0123456789", "rk_live_51Hserve0123456789"] {
        let env = [("STRIPE_SECRET_KEY", key), ("STRIPE_PUBLISHABLE_KEY", "pk_live_51Hserve0123456789")];
        let (output, data) = serve_exiting(&["--addr", "127.0.0.1:0"], &env);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{key}: exited {:?}", output.status);
        assert!(stderr.contains("live Stripe key") && stderr.contains(&key[..8]), "{key}: {stderr}");
        assert!(!stderr.contains("51Hserve"), "the key itself is never printed: {stderr}");
        assert!(!data.exists(), "{key}: refused before it created anything");
    }
}

#[test]
fn trusting_an_openid_issuer_serve_mints_no_tokens_and_accepts_none_of_its_own() {
    // Nothing listens on the discard port: no key can be found, so no token proves anything. (A
    // real provider's tokens are accepted: storefront-example/tests/oidc.test.mjs.)
    let args = ["--addr", "127.0.0.1:0", "--auth-issuer", "http://127.0.0.1:9", "--auth-audience", "storefront"];
    let server = Server::start_with(&args, &[]);
    assert_eq!(dev_token(&server), Some(404), "the issuer signs people in, not this server");
    assert_eq!(dev_confirm(&server), Some(422), "the payment simulator stays on loopback");
    let local = std::process::Command::new(workspace_binary("nanoshop"))
        .args(["token", "--admin", "--data-dir"])
        .arg(&server.data)
        .output()
        .unwrap();
    let token = String::from_utf8(local.stdout).unwrap();
    assert_eq!(token.trim().split('.').count(), 3, "nanoshop token printed a JWT: {token:?}");
    let request = format!(
        "GET /me/cart HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nConnection: close\r\n\r\n",
        token.trim()
    );
    assert_eq!(server.exchange(request.as_bytes()).0, Some(401), "a locally minted token is no longer accepted");
    let (status, _) = server.exchange(b"GET /products HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert_eq!(status, Some(200), "the shop itself is served");
}
