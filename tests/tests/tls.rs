//! TLS: only clients that trust the broker's CA get in, and TLS 1.2 only when configured.

use std::sync::Arc;

use tether_e2e::broker::Broker;
use tether_e2e::raw;
use tokio::net::TcpStream;

async fn handshake(port: u16, config: rustls::ClientConfig) -> Result<(), std::io::Error> {
    let tcp = TcpStream::connect(("127.0.0.1", port)).await?;
    let name = rustls_pki_types::ServerName::try_from("127.0.0.1").unwrap().to_owned();
    tokio_rustls::TlsConnector::from(Arc::new(config)).connect(name, tcp).await.map(|_| ())
}

fn tls12_only(ca: &std::path::Path) -> rustls::ClientConfig {
    let mut roots = rustls::RootCertStore::empty();
    for cert in tether_certs::load_certs(ca).unwrap() {
        roots.add(cert).unwrap();
    }
    rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_protocol_versions(&[&rustls::version::TLS12])
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth()
}

#[test]
fn only_clients_trusting_the_ca_get_in() {
    let broker = Broker::start();
    broker.add_user("alice", "technician", "alice-password");

    // A CA from another broker is not trusted.
    let other = tempfile::tempdir().unwrap();
    let other_certs = tether_certs::DataDirCerts::in_dir(other.path());
    tether_certs::generate(&other_certs, &["127.0.0.1".into()]).unwrap();
    let out = {
        let mut cmd = std::process::Command::new(tether_e2e::bins::bin("tether-console"));
        cmd.args([
            "login",
            "--user",
            "alice",
            "--password-stdin",
            "--broker",
            &broker.url(),
            "--ca",
        ])
        .arg(&other_certs.ca_cert)
        .env("TETHER_CONFIG_DIR", other.path().join("cfg"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        use std::io::Write;
        writeln!(child.stdin.take().unwrap(), "alice-password").unwrap();
        child.wait_with_output().unwrap()
    };
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("TLS handshake") && stderr.contains("certificate"), "{stderr}");

    // The broker's own CA is.
    let out = broker.console("alice").login("alice", "alice-password");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

#[tokio::test]
async fn tls_1_2_only_clients_are_refused_unless_configured() {
    let strict = Broker::start();
    assert!(
        handshake(strict.port, tls12_only(&strict.ca())).await.is_err(),
        "1.3-only broker took TLS 1.2"
    );
    // Control: the same client succeeds where 1.2 is allowed, and a default client succeeds.
    let lenient = Broker::start_with_config("[tls]\nmin_version = \"1.2\"\n");
    handshake(lenient.port, tls12_only(&lenient.ca())).await.expect("TLS 1.2 allowed by config");
    let config = Arc::unwrap_or_clone(raw::tls(&strict.ca()));
    handshake(strict.port, config).await.expect("TLS 1.3 works");
}

#[tokio::test]
async fn an_operator_certificate_replaces_the_self_made_one() {
    // The operator's own CA and certificate, made elsewhere.
    let own = tempfile::tempdir().unwrap();
    let certs = tether_certs::DataDirCerts::in_dir(own.path());
    tether_certs::generate(&certs, &["127.0.0.1".into()]).unwrap();
    let config = format!(
        "[tls]\ncert = \"{}\"\nkey = \"{}\"\n",
        certs.server_cert.display(),
        certs.server_key.display()
    );
    let broker = Broker::start_with_config(&config);
    let trusts_own = Arc::unwrap_or_clone(raw::tls(&certs.ca_cert));
    handshake(broker.port, trusts_own).await.expect("the operator's certificate is served");
    let trusts_self_made = Arc::unwrap_or_clone(raw::tls(&broker.ca()));
    assert!(
        handshake(broker.port, trusts_self_made).await.is_err(),
        "the self-made certificate must not be served"
    );
}
