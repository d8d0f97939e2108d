//! The certificate the web is served with: named with its expiry at start-up, and replaced on
//! disk while the broker runs, taken without a restart; a broken replacement is refused and the
//! working certificate kept.

use std::path::Path;

use tether_certs::{DataDirCerts, generate};
use tether_e2e::broker::Broker;
use tether_e2e::wait_until;
use tether_e2e::web::Web;

fn pair(dir: &Path, name: &str) -> DataDirCerts {
    std::fs::create_dir_all(dir.join(name)).unwrap();
    let certs = DataDirCerts::in_dir(&dir.join(name));
    generate(&certs, &["127.0.0.1".into(), "localhost".into()]).expect("certificates");
    certs
}

#[test]
fn a_replaced_certificate_is_served_without_a_restart_and_a_broken_one_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (first, second) = (pair(dir.path(), "first"), pair(dir.path(), "second"));
    let (cert, key) = (dir.path().join("web.pem"), dir.path().join("web.key"));
    std::fs::copy(&first.server_cert, &cert).unwrap();
    std::fs::copy(&first.server_key, &key).unwrap();
    let config = format!("[tls]\ncert = {:?}\nkey = {:?}\n", cert, key);
    let mut broker = Broker::start_with_config(&config);
    let pid = broker.pid();

    // The port is announced before the broker logs what it serves: wait for the line.
    wait_until("the served certificate is said at start", || {
        broker.log().contains("serving certificate")
    });
    let log = broker.log();
    let serving = log.lines().find(|l| l.contains("serving certificate")).expect("said at start");
    assert!(serving.contains("expires=") && serving.contains("127.0.0.1"), "{serving}");

    let trusting_first = Web::http1(&broker).trusting(&first.ca_cert);
    let trusting_second = Web::http1(&broker).trusting(&second.ca_cert);
    assert_eq!(trusting_first.handshake(), Ok(()));
    assert!(trusting_second.handshake().is_err());

    std::fs::copy(&second.server_key, &key).unwrap();
    std::fs::copy(&second.server_cert, &cert).unwrap();
    wait_until("the second certificate is served", || trusting_second.handshake().is_ok());
    assert!(trusting_first.handshake().is_err(), "the first certificate is still served");
    assert!(broker.log().contains("reloaded; now serving"));
    assert!(broker.is_running() && broker.pid() == pid, "the broker restarted");
    assert_eq!(trusting_second.get("/api/v1/me", &[]).status, 401);

    std::fs::write(&key, "-----BEGIN PRIVATE KEY-----\nbroken\n-----END PRIVATE KEY-----\n")
        .unwrap();
    wait_until("the broken key is refused", || {
        broker.log().contains("the replaced certificate was refused")
    });
    assert_eq!(trusting_second.handshake(), Ok(()), "a broken replacement stopped the serving");
}
