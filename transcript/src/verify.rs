//! Verifying a transcript: walk the chain, check sequence numbers and links, check the seal's
//! signature, and compare with the seal recorded in the database when the session ended. Pure:
//! bytes in, verdict out. The first record at fault is named; a transcript that simply stops
//! (a crash) is told apart from one that was cut short after it was sealed.

use tether_protocol::VerifyStatus;

use crate::record::{GENESIS, Record, SEAL_EVENT, hash_line, seal_message};
use crate::signing::VerifyingKey;

/// The seal the database recorded when the session ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expected {
    /// Records, the seal included.
    pub records: u64,
    /// Hex SHA-256 of the seal record.
    pub hash: String,
}

/// The outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// Ok, unsealed or tampered.
    pub status: VerifyStatus,
    /// Records read intact.
    pub records: u64,
    /// The first record at fault.
    pub record: Option<u64>,
    /// In words.
    pub message: String,
}

fn tampered(records: u64, record: u64, message: String) -> Verdict {
    Verdict { status: VerifyStatus::Tampered, records, record: Some(record), message }
}

/// Verifies `bytes`, the transcript of `session`, against `key` and the database's `expected`
/// seal (if the session ended normally).
pub fn verify(
    bytes: &[u8],
    key: &VerifyingKey,
    session: &str,
    expected: Option<&Expected>,
) -> Verdict {
    let mut lines: Vec<&[u8]> = bytes.split(|b| *b == b'\n').collect();
    // The text after the last newline: empty for a whole file, else a record cut short.
    let tail = lines.pop().unwrap_or_default();
    let parsed: Vec<Option<Record>> =
        lines.iter().map(|l| serde_json::from_slice::<Record>(l).ok()).collect();
    let n = lines.len() as u64;

    let mut prev = GENESIS.to_string();
    let mut seal: Option<&Record> = None;
    for (i, (line, record)) in lines.iter().zip(&parsed).enumerate() {
        let i = i as u64;
        if let Some(s) = seal {
            return tampered(
                i,
                i,
                format!("record {i} follows the seal (record {}); it was inserted", s.seq),
            );
        }
        let Some(record) = record else {
            return tampered(i, i, format!("record {i} is not a valid record; it was changed"));
        };
        if record.seq != i {
            let found_later = parsed
                .iter()
                .skip(i as usize + 1)
                .position(|r| r.as_ref().is_some_and(|r| r.seq == i));
            let message = match found_later {
                Some(ahead) => {
                    format!("record {i} is out of order: it appears {} lines later", ahead + 1)
                }
                None if record.seq > i => format!("record {i} is missing; it was deleted"),
                None => format!(
                    "record {} appears again at position {i}; a record was inserted",
                    record.seq
                ),
            };
            return tampered(i, i, message);
        }
        if record.prev != prev {
            return match i {
                0 => tampered(0, 0, "record 0 was changed (it does not start the chain)".into()),
                _ => tampered(
                    i - 1,
                    i - 1,
                    format!("record {} was changed: its hash no longer matches record {i}", i - 1),
                ),
            };
        }
        prev = hash_line(line);
        if record.event == SEAL_EVENT && record.actor.role == "broker" {
            seal = Some(record);
        }
    }

    if !tail.is_empty() {
        return match expected {
            Some(e) => tampered(
                n,
                n,
                format!(
                    "the file was cut off in record {n}; the session was sealed with {} records",
                    e.records
                ),
            ),
            None => Verdict {
                status: VerifyStatus::Unsealed,
                records: n,
                record: Some(n),
                message: format!(
                    "ended without seal: record {n} is incomplete (the broker stopped while writing it)"
                ),
            },
        };
    }
    let Some(seal) = seal else {
        return match expected {
            Some(e) => tampered(
                n,
                n,
                format!(
                    "the file was cut off after {n} records; the session was sealed with {}",
                    e.records
                ),
            ),
            None => Verdict {
                status: VerifyStatus::Unsealed,
                records: n,
                record: None,
                message: format!(
                    "ended without seal after {n} records (the broker stopped mid-session); every record present is intact"
                ),
            },
        };
    };
    let signature = seal.data["signature"].as_str().unwrap_or_default();
    if seal.data["session"].as_str() != Some(session) {
        return tampered(
            n,
            seal.seq,
            format!("the seal (record {}) belongs to another session", seal.seq),
        );
    }
    if !key.verify(&seal_message(session, seal.seq, &seal.prev), signature) {
        return tampered(
            n,
            seal.seq,
            format!("the seal's signature (record {}) is not valid", seal.seq),
        );
    }
    if let Some(e) = expected
        && (e.records != n || e.hash != prev)
    {
        return tampered(
            n,
            seal.seq,
            format!(
                "the seal (record {}) is not the one recorded when the session ended",
                seal.seq
            ),
        );
    }
    Verdict {
        status: VerifyStatus::Ok,
        records: n,
        record: None,
        message: format!("{n} records, chain intact, seal valid"),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use serde_json::json;

    use super::*;
    use crate::record::{Actor, Entry};
    use crate::signing::SigningKey;
    use crate::writer::{Seal, Transcript};

    fn key() -> Arc<SigningKey> {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("k");
        std::fs::write(&p, SigningKey::generate_pem().unwrap()).unwrap();
        Arc::new(SigningKey::load(&p).unwrap())
    }

    /// A sealed transcript of `n` chat records plus start and end; returns its bytes and seal.
    async fn sealed(key: Arc<SigningKey>, n: usize) -> (Vec<u8>, Seal) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.jsonl");
        let start = Entry::now(Actor::broker(), "session_started", json!({"session": "s-1"}));
        let (t, _failed) = Transcript::open(path.clone(), "s-1".into(), key, vec![start]);
        for i in 0..n {
            t.record(Entry::now(Actor::broker(), "chat", json!({"text": format!("message {i}")})))
                .await;
        }
        let end = Entry::now(Actor::broker(), "session_ended", json!({}));
        let seal = t.finish(vec![end]).unwrap().await.unwrap().unwrap();
        (std::fs::read(&path).unwrap(), seal)
    }

    fn expected(seal: &Seal) -> Expected {
        Expected { records: seal.records, hash: seal.hash.clone() }
    }

    fn lines(bytes: &[u8]) -> Vec<Vec<u8>> {
        bytes.split_inclusive(|b| *b == b'\n').map(<[u8]>::to_vec).collect()
    }

    #[tokio::test]
    async fn a_sealed_transcript_verifies() {
        let key = key();
        let (bytes, seal) = sealed(key.clone(), 5).await;
        assert_eq!(seal.records, 8, "start, five chats, end, seal");
        let v = verify(&bytes, &key.verifying_key(), "s-1", Some(&expected(&seal)));
        assert_eq!(v.status, VerifyStatus::Ok, "{v:?}");
        assert_eq!(v.records, 8);
        // Without the database it still verifies; with another key or session it does not.
        assert_eq!(verify(&bytes, &key.verifying_key(), "s-1", None).status, VerifyStatus::Ok);
        assert_eq!(
            verify(&bytes, &self::key().verifying_key(), "s-1", None).status,
            VerifyStatus::Tampered
        );
        assert_eq!(
            verify(&bytes, &key.verifying_key(), "s-2", None).status,
            VerifyStatus::Tampered
        );
    }

    #[tokio::test]
    async fn each_kind_of_tampering_is_caught_and_located() {
        let key = key();
        let (bytes, seal) = sealed(key.clone(), 5).await;
        let (pk, exp) = (key.verifying_key(), expected(&seal));
        let check = |bytes: &[u8], record: u64| {
            let v = verify(bytes, &pk, "s-1", Some(&exp));
            assert_eq!((v.status, v.record), (VerifyStatus::Tampered, Some(record)), "{v:?}");
            v.message
        };
        let l = lines(&bytes);

        // An edited byte in record 3's text.
        let mut edited = l.clone();
        let pos = edited[3].windows(9).position(|w| w == b"message 2").unwrap();
        edited[3][pos + 8] = b'7';
        assert!(check(&edited.concat(), 3).contains("changed"));
        // A deleted record.
        let mut deleted = l.clone();
        deleted.remove(4);
        assert!(check(&deleted.concat(), 4).contains("deleted"));
        // Two records swapped.
        let mut swapped = l.clone();
        swapped.swap(2, 3);
        assert!(check(&swapped.concat(), 2).contains("out of order"));
        // Cut off inside record 5, and cut off at a line boundary.
        let cut: Vec<u8> = l[..5].concat().into_iter().chain(l[5][..10].iter().copied()).collect();
        assert!(check(&cut, 5).contains("cut off"));
        assert!(check(&l[..6].concat(), 6).contains("cut off"));
        // The seal itself changed.
        let mut forged = l.clone();
        let last = forged.len() - 1;
        let text = String::from_utf8(forged[last].clone())
            .unwrap()
            .replace("\"records\":7", "\"records\":9");
        forged[last] = text.into_bytes();
        let v = verify(&forged.concat(), &pk, "s-1", Some(&exp));
        assert_eq!(v.status, VerifyStatus::Tampered);
        // A record appended after the seal.
        let mut appended = l.clone();
        appended.push(l[1].clone());
        assert!(check(&appended.concat(), 8).contains("inserted"));
    }

    #[tokio::test]
    async fn a_crash_is_unsealed_not_tampered() {
        let key = key();
        let (bytes, _) = sealed(key.clone(), 5).await;
        let l = lines(&bytes);
        let pk = key.verifying_key();
        // Stopped between records: intact but unsealed.
        let v = verify(&l[..6].concat(), &pk, "s-1", None);
        assert_eq!((v.status, v.records), (VerifyStatus::Unsealed, 6), "{v:?}");
        // Stopped in the middle of writing a record.
        let cut: Vec<u8> =
            l[..6].concat().into_iter().chain(b"{\"seq\":6,\"ts".iter().copied()).collect();
        let v = verify(&cut, &pk, "s-1", None);
        assert_eq!((v.status, v.records), (VerifyStatus::Unsealed, 6), "{v:?}");
        // But a changed record in an unsealed file is still tampering.
        let mut edited = l[..6].to_vec();
        edited[1][20] ^= 1;
        assert_eq!(verify(&edited.concat(), &pk, "s-1", None).status, VerifyStatus::Tampered);
    }
}
