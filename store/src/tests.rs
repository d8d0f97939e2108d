//! The store's contract, as tests: every behaviour the traits promise, run against the
//! embedded SQLite store through `&dyn Store` only, so that another implementation is held to
//! the same tests by adding its fixture beside [`store`].

use tether_protocol::{
    CheckResult, Measurement, Priority, Role, TicketFilter, TicketId, TicketStatus, UserRole,
    Verdict,
};

use crate::*;

/// A fresh SQLite store in a temporary directory.
pub(crate) fn store() -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().unwrap();
    let s = SqliteStore::open(&dir.path().join("tether.db")).unwrap();
    (dir, s)
}

pub(crate) fn alice() -> UserRecord {
    UserRecord {
        name: "alice".into(),
        role: UserRole::Technician,
        skills: vec!["printers".into(), "vpn".into()],
        password_hash: "$argon2id$x".into(),
        disabled: false,
        created_at: 10,
        availability: tether_protocol::Availability::Available,
        location: None,
        failed_logins: 0,
        locked_until: None,
    }
}

pub(crate) fn ticket(priority: Priority) -> NewTicket {
    NewTicket {
        channel: "agent".into(),
        client: "Bob".into(),
        contact: "bob@example.com".into(),
        issue: "printer on fire".into(),
        priority,
        status: TicketStatus::Queued,
        skills: vec![],
        deadline_at: None,
        claimed_priority: None,
        source: None,
    }
}

#[tokio::test]
async fn reopening_keeps_data() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tether.db");
    SqliteStore::open(&path).unwrap().add_user(&alice()).await.unwrap();
    assert!(SqliteStore::open(&path).unwrap().user("alice").await.unwrap().is_some());
}

#[test]
fn a_database_newer_than_the_code_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tether.db");
    drop(SqliteStore::open(&path).unwrap());
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.pragma_update(None, "user_version", 999).unwrap();
    drop(conn);
    let err = SqliteStore::open(&path).unwrap_err();
    assert!(err.to_string().contains("newer than this broker"), "{err}");
}

#[tokio::test]
async fn users_are_unique_and_disabling_kills_tokens() {
    let (_d, s) = store();
    let s: &dyn Store = &s;
    s.add_user(&alice()).await.unwrap();
    assert!(matches!(s.add_user(&alice()).await, Err(StoreError::Conflict(_))));
    assert_eq!(s.user("alice").await.unwrap().unwrap(), alice());
    s.add_token(b"h1", "alice", 100, 200).await.unwrap();
    assert_eq!(s.token_user(b"h1", 150).await.unwrap().unwrap().name, "alice");
    assert!(s.token_user(b"h1", 200).await.unwrap().is_none(), "expired");
    assert!(s.token_user(b"h2", 150).await.unwrap().is_none(), "unknown");
    assert!(s.set_disabled("alice", true).await.unwrap());
    assert!(s.token_user(b"h1", 150).await.unwrap().is_none(), "disabled");
    assert!(!s.set_disabled("nobody", true).await.unwrap());
    assert!(s.set_skills("alice", &["vpn".into(), "linux".into()]).await.unwrap());
    assert_eq!(s.user("alice").await.unwrap().unwrap().skills, vec!["vpn", "linux"]);
    assert!(!s.set_skills("nobody", &[]).await.unwrap());
}

#[tokio::test]
async fn invitations_are_single_use_and_expire_with_grace() {
    let (_d, s) = store();
    let s: &dyn Store = &s;
    s.add_user(&alice()).await.unwrap();
    let t = s.create_ticket(&ticket(Priority::Low), 1).await.unwrap();
    let inv = |hash: &[u8]| InvitationRecord {
        id: 0,
        code_hash: hash.to_vec(),
        ticket: t.id,
        issued_by: "alice".into(),
        expires_at: 1000,
        used_at: None,
    };
    s.add_invitation(&inv(b"a"), 1).await.unwrap();
    s.add_invitation(&inv(b"b"), 1).await.unwrap();
    let c = s.invitation_candidates(10, 0).await.unwrap();
    assert_eq!(c.len(), 2);
    assert!(s.use_invitation(c[0].id, 11).await.unwrap());
    assert!(!s.use_invitation(c[0].id, 12).await.unwrap(), "single use");
    assert_eq!(s.invitation_candidates(10, 0).await.unwrap().len(), 1);
    assert_eq!(s.invitations_issued_by("alice", 10).await.unwrap().len(), 2);
    // Expiry with grace: b is still a candidate 50 s after expiry with a 60 s grace.
    assert_eq!(s.invitation_candidates(1050, 60).await.unwrap().len(), 1);
    assert!(s.invitation_candidates(1050, 0).await.unwrap().is_empty());
}

#[tokio::test]
async fn open_tickets_are_ordered_by_priority_then_age() {
    let (_d, s) = store();
    let s: &dyn Store = &s;
    let low = s.create_ticket(&ticket(Priority::Low), 1).await.unwrap();
    let crit = s.create_ticket(&ticket(Priority::Critical), 2).await.unwrap();
    let high = s.create_ticket(&ticket(Priority::High), 3).await.unwrap();
    let ids: Vec<_> = s.open_tickets().await.unwrap().into_iter().map(|t| t.id).collect();
    assert_eq!(ids, vec![crit.id, high.id, low.id]);
    s.set_ticket_state(crit.id, TicketStatus::Closed, Some("alice"), 4).await.ok();
    // Foreign key: alice does not exist yet, so the update must fail and change nothing.
    assert_eq!(s.ticket(crit.id).await.unwrap().unwrap().status, TicketStatus::Queued);
    s.add_user(&alice()).await.unwrap();
    s.set_ticket_state(crit.id, TicketStatus::Closed, Some("alice"), 4).await.unwrap();
    assert_eq!(s.open_tickets().await.unwrap().len(), 2);
    // Loads count only open tickets, per owner.
    assert!(s.open_loads().await.unwrap().is_empty(), "the closed one does not count");
    s.set_ticket_state(low.id, TicketStatus::Assigned, Some("alice"), 5).await.unwrap();
    s.set_ticket_state(high.id, TicketStatus::Assigned, Some("alice"), 5).await.unwrap();
    assert_eq!(s.open_loads().await.unwrap().get("alice"), Some(&2));
}

#[tokio::test]
async fn the_latest_agent_check_is_the_tickets_bandwidth_verdict() {
    let (_d, s) = store();
    let s: &dyn Store = &s;
    let t = s.create_ticket(&ticket(Priority::High), 1).await.unwrap();
    assert_eq!(t.bandwidth, None);
    let check = |role, verdict| CheckRecord {
        ticket: t.id,
        role,
        name: "x".into(),
        at: 2,
        result: CheckResult {
            measurement: Measurement {
                rtt_ms: 1.0,
                jitter_ms: 0.0,
                download_mbps: 9.0,
                upload_mbps: 9.0,
            },
            verdict,
            reasons: vec![],
        },
    };
    s.add_check(&check(Role::Agent, Verdict::Fail)).await.unwrap();
    s.add_check(&check(Role::Agent, Verdict::Pass)).await.unwrap();
    s.add_check(&check(Role::Console, Verdict::Fail)).await.unwrap();
    assert_eq!(s.ticket(t.id).await.unwrap().unwrap().bandwidth, Some(Verdict::Pass));
    assert_eq!(s.open_tickets().await.unwrap()[0].bandwidth, Some(Verdict::Pass));
}

#[tokio::test]
async fn lists_filter_by_breach_owner_and_closure() {
    let (_d, s) = store();
    let s: &dyn Store = &s;
    s.add_user(&alice()).await.unwrap();
    let mut late = ticket(Priority::Critical);
    late.deadline_at = Some(100);
    let late = s.create_ticket(&late, 1).await.unwrap();
    let mut fine = ticket(Priority::Low);
    fine.deadline_at = Some(10_000);
    let fine = s.create_ticket(&fine, 1).await.unwrap();
    s.set_ticket_state(fine.id, TicketStatus::Assigned, Some("alice"), 2).await.unwrap();
    let ids = async |f: TicketFilter, now| -> Vec<TicketId> {
        s.list_tickets(&f, now).await.unwrap().into_iter().map(|t| t.id).collect()
    };
    assert_eq!(
        ids(TicketFilter { breached: true, ..Default::default() }, 200).await,
        vec![late.id]
    );
    assert!(ids(TicketFilter { breached: true, ..Default::default() }, 50).await.is_empty());
    assert_eq!(
        ids(TicketFilter { assigned_to: Some("alice".into()), ..Default::default() }, 200).await,
        vec![fine.id]
    );
    s.mark_responded(late.id, 300).await.unwrap();
    assert_eq!(
        ids(TicketFilter { breached: true, ..Default::default() }, 400).await,
        vec![late.id],
        "answered late"
    );
    s.close_unconfirmed(late.id, "gone", 500).await.unwrap();
    assert_eq!(ids(TicketFilter::default(), 600).await, vec![fine.id]);
    assert_eq!(
        ids(TicketFilter { include_closed: true, ..Default::default() }, 600).await.len(),
        2
    );
}

#[tokio::test]
async fn resolution_then_confirmation_closes_and_history_is_kept() {
    let (_d, s) = store();
    let s: &dyn Store = &s;
    let t = s.create_ticket(&ticket(Priority::High), 1).await.unwrap();
    s.set_resolution(t.id, "replaced the toner", 5).await.unwrap();
    let r = s.ticket(t.id).await.unwrap().unwrap();
    assert_eq!(
        (r.status, r.resolution.as_deref(), r.confirmed),
        (TicketStatus::Resolved, Some("replaced the toner"), None)
    );
    s.set_confirmed(t.id, &Confirmation { solved: false, rating: None, comment: None }, 6)
        .await
        .unwrap();
    assert_eq!(
        s.ticket(t.id).await.unwrap().unwrap().status,
        TicketStatus::Assigned,
        "not solved reopens"
    );
    let yes = Confirmation { solved: true, rating: Some(4), comment: Some("quick".into()) };
    s.set_confirmed(t.id, &yes, 7).await.unwrap();
    let r = s.ticket(t.id).await.unwrap().unwrap();
    assert_eq!((r.status, r.confirmed), (TicketStatus::Closed, Some(true)));
    for (at, kind) in [(1, "created"), (7, "closed")] {
        s.add_ticket_event(&TicketEvent {
            ticket: t.id,
            at,
            actor: "alice".into(),
            kind: kind.into(),
            detail: String::new(),
        })
        .await
        .unwrap();
    }
    let kinds: Vec<_> = s.ticket_events(t.id).await.unwrap().into_iter().map(|e| e.kind).collect();
    assert_eq!(kinds, ["created", "closed"]);
}

#[tokio::test]
async fn sessions_start_and_end_once() {
    let (_d, s) = store();
    let s: &dyn Store = &s;
    s.add_user(&alice()).await.unwrap();
    let t = s.create_ticket(&ticket(Priority::Low), 1).await.unwrap();
    let rec = SessionRecord {
        id: "s1".into(),
        ticket: t.id,
        technician: "alice".into(),
        customer: "Bob".into(),
        started_at: 5,
        transcript: Some("s1.jsonl".into()),
    };
    s.start_session(&rec).await.unwrap();
    assert!(s.start_session(&rec).await.is_err(), "ids are unique");
    s.end_session("s1", 9, "done").await.unwrap();
    s.end_session("s1", 10, "again").await.unwrap();
    let row = s.session("s1").await.unwrap().unwrap();
    assert_eq!((row.ended_at, row.end_reason.as_deref()), (Some(9), Some("done")));
}

#[tokio::test]
async fn sessions_filter_seal_and_recover() {
    let (_d, s) = store();
    let s: &dyn Store = &s;
    s.add_user(&alice()).await.unwrap();
    let t1 = s.create_ticket(&ticket(Priority::Low), 1).await.unwrap();
    let t2 = s.create_ticket(&ticket(Priority::Low), 1).await.unwrap();
    let rec = |id: &str, ticket, at| SessionRecord {
        id: id.into(),
        ticket,
        technician: "alice".into(),
        customer: "Bob".into(),
        started_at: at,
        transcript: None,
    };
    s.start_session(&rec("a", t1.id, 10)).await.unwrap();
    s.start_session(&rec("b", t2.id, 20)).await.unwrap();
    s.start_session(&rec("c", t1.id, 30)).await.unwrap();
    let ids = async |f: SessionFilter| -> Vec<String> {
        s.sessions(&f).await.unwrap().into_iter().map(|r| r.start.id).collect()
    };
    assert_eq!(ids(SessionFilter::default()).await, ["c", "b", "a"]);
    assert_eq!(ids(SessionFilter { ticket: Some(t1.id), ..Default::default() }).await, ["c", "a"]);
    assert_eq!(ids(SessionFilter { since: Some(20), ..Default::default() }).await, ["c", "b"]);
    assert!(
        ids(SessionFilter { technician: Some("bob".into()), ..Default::default() })
            .await
            .is_empty()
    );
    s.end_session("a", 15, "done").await.unwrap();
    s.seal_session("a", 12, "abcd").await.unwrap();
    let a = s.session("a").await.unwrap().unwrap();
    assert_eq!((a.sealed_records, a.sealed_hash.as_deref()), (Some(12), Some("abcd")));
    assert!(a.summary().sealed);
    let open: Vec<_> = s
        .close_unfinished(99, "broker stopped")
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.start.id)
        .collect();
    assert_eq!(open.len(), 2);
    assert_eq!(
        s.session("b").await.unwrap().unwrap().end_reason.as_deref(),
        Some("broker stopped")
    );
    assert!(s.close_unfinished(100, "again").await.unwrap().is_empty());
}

#[tokio::test]
async fn a_visit_is_scheduled_dispatched_logged_and_signed() {
    let (_d, s) = store();
    let s: &dyn Store = &s;
    s.add_user(&alice()).await.unwrap();
    let t = s.create_ticket(&ticket(Priority::High), 1).await.unwrap();
    let visit = VisitRecord {
        ticket: t.id,
        window_start: 100,
        window_end: 200,
        address: "1 Main St".into(),
        lat: 52.5,
        lon: 13.4,
        access: "badge at reception".into(),
        contact_confirmed: true,
        technician: None,
        eta: None,
        signed_off: None,
    };
    s.set_visit(&visit).await.unwrap();
    s.set_visit_technician(t.id, "alice").await.unwrap();
    s.set_eta(t.id, 150).await.unwrap();
    s.add_onsite_entry(&OnsiteEntry {
        ticket: t.id,
        at: 160,
        actor: "alice".into(),
        kind: "part".into(),
        text: "fuser unit".into(),
        file: None,
        sha256: None,
    })
    .await
    .unwrap();
    s.sign_off(t.id, "Bob", 170).await.unwrap();
    let v = s.visit(t.id).await.unwrap().unwrap();
    assert_eq!((v.technician.as_deref(), v.eta), (Some("alice"), Some(150)));
    assert_eq!(v.signed_off, Some(("Bob".into(), 170)));
    assert_eq!(s.onsite_entries(t.id).await.unwrap()[0].text, "fuser unit");
}

#[tokio::test]
async fn failed_sign_ins_count_lock_and_are_reported_once_at_the_next() {
    let (_d, s) = store();
    let s: &dyn Store = &s;
    s.add_user(&alice()).await.unwrap();
    assert_eq!(s.login_failed("alice", 100, "10.0.0.1").await.unwrap(), 1);
    assert_eq!(s.login_failed("alice", 110, "10.0.0.2").await.unwrap(), 2);
    assert_eq!(s.login_failed("nobody", 110, "10.0.0.2").await.unwrap(), 0);
    s.lock_account("alice", 500).await.unwrap();
    let u = s.user("alice").await.unwrap().unwrap();
    assert_eq!((u.failed_logins, u.locked_until), (2, Some(500)));
    let told = s.login_succeeded("alice").await.unwrap();
    assert_eq!(
        told,
        FailedLogins { count: 2, last_at: Some(110), last_from: Some("10.0.0.2".into()) }
    );
    let u = s.user("alice").await.unwrap().unwrap();
    assert_eq!((u.failed_logins, u.locked_until), (0, None), "forgotten and unlocked");
    assert_eq!(s.login_succeeded("alice").await.unwrap().count, 0, "told once");
    s.login_failed("alice", 120, "10.0.0.3").await.unwrap();
    s.lock_account("alice", 900).await.unwrap();
    assert!(s.unlock_account("alice").await.unwrap());
    let u = s.user("alice").await.unwrap().unwrap();
    assert_eq!((u.failed_logins, u.locked_until), (0, None), "unlocked, counting afresh");
    assert_eq!(s.login_succeeded("alice").await.unwrap().count, 1, "still told at sign-in");
    assert!(!s.unlock_account("nobody").await.unwrap());
}

#[tokio::test]
async fn tokens_are_listed_by_id_and_revoked_one_at_a_time() {
    let (_d, s) = store();
    let s: &dyn Store = &s;
    s.add_user(&alice()).await.unwrap();
    s.add_token(&[0xaa; 32], "alice", 100, 1000).await.unwrap();
    s.add_token(&[0xbb; 32], "alice", 101, 1000).await.unwrap();
    assert!(s.token_user(&[0xaa; 32], 200).await.unwrap().is_some());
    let listed = s.tokens("alice", 200).await.unwrap();
    assert_eq!(
        listed.iter().map(|t| t.id.as_str()).collect::<Vec<_>>(),
        ["aaaaaaaaaaaa", "bbbbbbbbbbbb"]
    );
    assert_eq!((listed[0].last_used_at, listed[1].last_used_at), (Some(200), None));
    assert_eq!(s.revoke_tokens("alice", "bbbb").await.unwrap(), 1);
    assert!(s.token_user(&[0xbb; 32], 200).await.unwrap().is_none(), "revoked");
    assert!(s.token_user(&[0xaa; 32], 200).await.unwrap().is_some(), "the other lives");
    assert!(s.revoke_token_hash(&[0xaa; 32]).await.unwrap());
    assert!(!s.revoke_token_hash(&[0xaa; 32]).await.unwrap());
    s.add_token(&[0xcc; 32], "alice", 102, 1000).await.unwrap();
    assert_eq!(s.revoke_tokens("alice", "").await.unwrap(), 1, "all of them");
}

#[tokio::test]
async fn disabling_and_role_changes_are_counted_for_open_connections() {
    let (_d, s) = store();
    let s: &dyn Store = &s;
    s.add_user(&alice()).await.unwrap();
    let before = s.account_changes().await.unwrap();
    assert!(s.set_role("alice", UserRole::Dispatcher).await.unwrap());
    assert_eq!(s.user("alice").await.unwrap().unwrap().role, UserRole::Dispatcher);
    assert!(s.account_changes().await.unwrap() > before);
    let after_role = s.account_changes().await.unwrap();
    assert!(s.set_disabled("alice", true).await.unwrap());
    assert!(s.account_changes().await.unwrap() > after_role);
    assert!(!s.set_role("nobody", UserRole::Admin).await.unwrap());
}

#[tokio::test]
async fn a_ticket_has_one_live_link_and_revoked_links_stay_known() {
    let (_d, s) = store();
    let s: &dyn Store = &s;
    let t = s.create_ticket(&ticket(Priority::Low), 1).await.unwrap();
    let other = s.create_ticket(&ticket(Priority::Low), 1).await.unwrap();
    assert!(s.ticket_link(b"first").await.unwrap().is_none(), "unknown");
    s.add_ticket_link(t.id, b"first", 10).await.unwrap();
    s.add_ticket_link(other.id, b"other", 10).await.unwrap();
    let first = s.ticket_link(b"first").await.unwrap().unwrap();
    assert_eq!(first, LinkRecord { ticket: t.id, created_at: 10, revoked_at: None });
    // A new link revokes the ticket's older one, and no other ticket's.
    s.add_ticket_link(t.id, b"second", 20).await.unwrap();
    assert_eq!(s.ticket_link(b"first").await.unwrap().unwrap().revoked_at, Some(20));
    assert_eq!(s.ticket_link(b"second").await.unwrap().unwrap().revoked_at, None);
    assert_eq!(s.ticket_link(b"other").await.unwrap().unwrap().revoked_at, None);
    assert!(matches!(
        s.add_ticket_link(other.id, b"second", 21).await,
        Err(StoreError::Conflict(_))
    ));
    assert!(s.add_ticket_link(TicketId(999), b"nowhere", 21).await.is_err(), "no such ticket");
    assert_eq!(s.revoke_ticket_links(t.id, 30).await.unwrap(), 1);
    assert_eq!(s.revoke_ticket_links(t.id, 31).await.unwrap(), 0);
    assert_eq!(s.ticket_link(b"second").await.unwrap().unwrap().revoked_at, Some(30));
}

#[tokio::test]
async fn a_page_of_tickets_counts_and_orders_only_what_the_scope_allows() {
    let (_d, s) = store();
    let s: &dyn Store = &s;
    s.add_user(&alice()).await.unwrap();
    let bob = UserRecord { name: "bob".into(), ..alice() };
    s.add_user(&bob).await.unwrap();
    let mut ids = Vec::new();
    for n in 0..10 {
        let p = if n % 2 == 0 { Priority::High } else { Priority::Low };
        let t = s.create_ticket(&ticket(p), n).await.unwrap();
        let owner = match n % 3 {
            0 => Some("alice"),
            1 => Some("bob"),
            _ => None,
        };
        if let Some(owner) = owner {
            s.set_ticket_state(t.id, TicketStatus::Assigned, Some(owner), n).await.unwrap();
        }
        ids.push(t.id);
    }
    let all = TicketFilter::default();
    let whole = s.list_tickets(&all, 100).await.unwrap();
    // Pages of the whole list are slices of it, in its order.
    let (page, total) = s.ticket_page(&all, &TicketScope::All, 3, 4, 100).await.unwrap();
    assert_eq!(total, 10);
    let page: Vec<_> = page.into_iter().map(|t| t.id).collect();
    let slice: Vec<_> = whole[3..7].iter().map(|t| t.id).collect();
    assert_eq!(page, slice);
    // Alice sees hers and the unassigned: 4 hers (0, 3, 6, 9) and 3 nobody's (2, 5, 8).
    let mine = TicketScope::OwnOrUnassigned("alice".into());
    let (page, total) = s.ticket_page(&all, &mine, 0, 100, 100).await.unwrap();
    assert_eq!((page.len(), total), (7, 7));
    assert!(page.iter().all(|t| t.assigned_to.as_deref().is_none_or(|o| o == "alice")));
    // Filters count too, and a page past the end is empty with the right total.
    let high = TicketFilter { priority: Some(Priority::High), ..TicketFilter::default() };
    let (page, total) = s.ticket_page(&high, &mine, 0, 2, 100).await.unwrap();
    assert_eq!((page.len(), total), (2, 4));
    assert!(page.iter().all(|t| t.priority == Priority::High));
    let (page, total) = s.ticket_page(&all, &TicketScope::All, 50, 10, 100).await.unwrap();
    assert_eq!((page.len(), total), (0, 10));
}
