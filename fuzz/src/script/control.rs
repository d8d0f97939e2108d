//! Control messages a script sends, built from the protocol's own types, with references to
//! what the broker said (tickets, codes, sessions, approvals, tokens) resolved when sent.

use arbitrary::Arbitrary;
use tether_protocol::{
    AdminRequest, Attachment, Availability, Capability, ClientMessage, Credential, DeskRequest,
    ExportFormat, Hello, HelperMode, JoinTarget, OnsiteEntryKind, Priority, Role, Secret,
    SupportRequest, TicketFilter, TicketId, TicketStatus, VersionRange,
};

use super::{Context, USERS, password};

/// A control message, with references resolved when it is sent.
#[derive(Debug, Arbitrary)]
pub enum Control {
    Hello { versions: Versions, console: bool, credential: Cred, software: String },
    Request { name: String, contact: String, issue: String, priority: u8 },
    Queue,
    Invite { ticket: Option<TicketRef> },
    JoinTicket(TicketRef),
    JoinCode(CodeRef),
    ConsentRequest(u8),
    ConsentRelease(u8),
    Consent { capability: u8, granted: bool },
    Leave(Option<String>),
    Note(String),
    Resolve(String),
    Confirm { solved: bool, rating: Option<u8>, comment: Option<String> },
    Admin(Admin),
    Check,
    OverrideBandwidth(String),
    Desk(Desk),
    InviteTechnician { name: UserRef, help: bool },
    Transfer { to: UserRef },
    Approve { id: ApprovalRef, allowed: bool },
}

/// The versions a `hello` offers.
#[derive(Debug, Arbitrary)]
pub enum Versions {
    /// What this build speaks.
    Current,
    /// Any range.
    Range(u16, u16),
}

/// A `hello` credential.
#[derive(Debug, Arbitrary)]
pub enum Cred {
    None,
    /// A real account's token, issued at start-up.
    Token(u8),
    BadToken(String),
    Password {
        user: UserRef,
        right: bool,
        wrong: String,
    },
    Code(CodeRef),
}

/// A login name.
#[derive(Debug, Arbitrary)]
pub enum UserRef {
    /// One of [`USERS`].
    Known(u8),
    /// Anything.
    Other(String),
}

/// A ticket number.
#[derive(Debug, Arbitrary)]
pub enum TicketRef {
    /// The last one the broker mentioned.
    Latest,
    /// One it mentioned earlier in this script.
    Seen(u8),
    /// Any number.
    Number(u64),
}

/// A one-time code.
#[derive(Debug, Arbitrary)]
pub enum CodeRef {
    /// The last one the broker issued in this script.
    Latest,
    /// Anything.
    Digits(String),
}

/// An approval request's id.
#[derive(Debug, Arbitrary)]
pub enum ApprovalRef {
    /// The last one the broker asked.
    Latest,
    /// Any number.
    Id(u32),
}

/// A session id.
#[derive(Debug, Arbitrary)]
pub enum SessionRef {
    /// The last session paired in this script.
    Latest,
    /// Anything.
    Raw(String),
}

/// A time: near now, or anything.
#[derive(Debug, Arbitrary)]
pub enum Time {
    /// Seconds from now.
    Near(i32),
    /// Unix seconds.
    Raw(i64),
}

/// Admin requests.
#[derive(Debug, Arbitrary)]
pub enum Admin {
    Sessions { since: Option<Time>, ticket: Option<TicketRef>, technician: Option<UserRef> },
    Show(SessionRef),
    Verify(Option<SessionRef>),
    Export { session: SessionRef, format: u8 },
}

/// Desk requests.
#[derive(Debug, Arbitrary)]
pub enum Desk {
    TicketNew {
        channel: String,
        client: String,
        issue: String,
        priority: u8,
        skills: Vec<String>,
    },
    TicketShow(TicketRef),
    TicketList {
        status: Option<u8>,
        priority: Option<u8>,
        assigned_to: Option<UserRef>,
        breached: bool,
        include_closed: bool,
    },
    Assign {
        ticket: TicketRef,
        to: UserRef,
    },
    Claim(TicketRef),
    Ack(TicketRef),
    SetPriority {
        ticket: TicketRef,
        priority: u8,
        reason: String,
    },
    Escalate {
        ticket: TicketRef,
        to: Option<UserRef>,
        reason: String,
    },
    Close {
        ticket: TicketRef,
        reason: String,
    },
    FollowUp {
        ticket: TicketRef,
        due: Time,
        note: String,
    },
    SetAvailability(u8),
    SetLocation {
        lat: f64,
        lon: f64,
    },
    Watch,
    Onsite {
        ticket: TicketRef,
        start: Time,
        end: Time,
        address: String,
        lat: f64,
        lon: f64,
        access: String,
        confirmed: bool,
    },
    Dispatch {
        ticket: TicketRef,
        to: Option<UserRef>,
    },
    Eta {
        ticket: TicketRef,
        eta: Time,
        delay: Option<String>,
    },
    OnsiteLog {
        ticket: TicketRef,
        kind: u8,
        text: String,
        attachment: Option<(String, String)>,
    },
    SignOff {
        ticket: TicketRef,
        name: String,
        solved: bool,
    },
    Report {
        from: Time,
        to: Time,
    },
}

impl Control {
    pub(super) fn message(&self, cx: &Context<'_>) -> ClientMessage {
        match self {
            Control::Hello { versions, console, credential, software } => {
                ClientMessage::Hello(Hello {
                    versions: match *versions {
                        Versions::Current => VersionRange::CURRENT,
                        Versions::Range(min, max) => VersionRange { min, max },
                    },
                    role: if *console { Role::Console } else { Role::Agent },
                    credential: credential.resolve(cx),
                    software: software.clone(),
                })
            }
            Control::Request { name, contact, issue, priority } => {
                ClientMessage::Request(SupportRequest {
                    name: name.clone(),
                    contact: contact.clone(),
                    issue: issue.clone(),
                    priority: priority_of(*priority),
                })
            }
            Control::Queue => ClientMessage::Queue,
            Control::Invite { ticket } => {
                ClientMessage::Invite { ticket: ticket.as_ref().map(|t| t.resolve(cx)) }
            }
            Control::JoinTicket(t) => {
                ClientMessage::Join { target: JoinTarget::Ticket(t.resolve(cx)) }
            }
            Control::JoinCode(c) => {
                ClientMessage::Join { target: JoinTarget::Code(Secret::new(c.resolve(cx))) }
            }
            Control::ConsentRequest(c) => {
                ClientMessage::ConsentRequest { capability: capability(*c) }
            }
            Control::ConsentRelease(c) => {
                ClientMessage::ConsentRelease { capability: capability(*c) }
            }
            Control::Consent { capability: c, granted } => {
                ClientMessage::Consent { capability: capability(*c), granted: *granted }
            }
            Control::Leave(reason) => ClientMessage::Leave { reason: reason.clone() },
            Control::Note(text) => ClientMessage::Note { text: text.clone() },
            Control::Resolve(text) => ClientMessage::Resolve { text: text.clone() },
            Control::Confirm { solved, rating, comment } => ClientMessage::Confirm {
                solved: *solved,
                rating: *rating,
                comment: comment.clone(),
            },
            Control::Admin(a) => ClientMessage::Admin(a.request(cx)),
            Control::Check => ClientMessage::Check,
            Control::OverrideBandwidth(reason) => {
                ClientMessage::OverrideBandwidth { reason: reason.clone() }
            }
            Control::Desk(d) => ClientMessage::Desk(d.request(cx)),
            Control::InviteTechnician { name, help } => ClientMessage::InviteTechnician {
                name: name.resolve(),
                mode: if *help { HelperMode::Help } else { HelperMode::Watch },
            },
            Control::Transfer { to } => ClientMessage::Transfer { to: to.resolve() },
            Control::Approve { id, allowed } => {
                let id = match id {
                    ApprovalRef::Latest => cx.memory.approvals.last().copied().unwrap_or(1),
                    ApprovalRef::Id(id) => *id,
                };
                ClientMessage::Approve { id, allowed: *allowed }
            }
        }
    }
}

impl Cred {
    fn resolve(&self, cx: &Context<'_>) -> Credential {
        match self {
            Cred::None => Credential::None,
            Cred::Token(i) => Credential::Token {
                token: Secret::new(cx.tokens[usize::from(*i) % cx.tokens.len()].clone()),
            },
            Cred::BadToken(t) => Credential::Token { token: Secret::new(t.clone()) },
            Cred::Password { user, right, wrong } => {
                let user = user.resolve();
                let password = if *right { password(&user) } else { wrong.clone() };
                Credential::Password { user, password: Secret::new(password) }
            }
            Cred::Code(c) => Credential::Code { code: Secret::new(c.resolve(cx)) },
        }
    }
}

impl UserRef {
    fn resolve(&self) -> String {
        match self {
            UserRef::Known(i) => USERS[usize::from(*i) % USERS.len()].0.to_string(),
            UserRef::Other(name) => name.clone(),
        }
    }
}

impl TicketRef {
    fn resolve(&self, cx: &Context<'_>) -> TicketId {
        let seen = &cx.memory.tickets;
        match *self {
            TicketRef::Latest => seen.last().copied().unwrap_or(TicketId(1)),
            TicketRef::Seen(i) if !seen.is_empty() => seen[usize::from(i) % seen.len()],
            TicketRef::Seen(i) => TicketId(u64::from(i)),
            TicketRef::Number(n) => TicketId(n),
        }
    }
}

impl CodeRef {
    fn resolve(&self, cx: &Context<'_>) -> String {
        match self {
            CodeRef::Latest => cx.memory.codes.last().cloned().unwrap_or_default(),
            CodeRef::Digits(d) => d.clone(),
        }
    }
}

impl SessionRef {
    fn resolve(&self, cx: &Context<'_>) -> String {
        match self {
            SessionRef::Latest => cx.memory.sessions.last().cloned().unwrap_or_default(),
            SessionRef::Raw(s) => s.clone(),
        }
    }
}

impl Time {
    fn resolve(&self, cx: &Context<'_>) -> i64 {
        match *self {
            Time::Near(offset) => cx.now + i64::from(offset),
            Time::Raw(t) => t,
        }
    }
}

impl Admin {
    fn request(&self, cx: &Context<'_>) -> AdminRequest {
        match self {
            Admin::Sessions { since, ticket, technician } => AdminRequest::Sessions {
                since: since.as_ref().map(|t| t.resolve(cx)),
                ticket: ticket.as_ref().map(|t| t.resolve(cx)),
                technician: technician.as_ref().map(UserRef::resolve),
            },
            Admin::Show(s) => AdminRequest::Show { session: s.resolve(cx) },
            Admin::Verify(s) => AdminRequest::Verify { session: s.as_ref().map(|s| s.resolve(cx)) },
            Admin::Export { session, format } => AdminRequest::Export {
                session: session.resolve(cx),
                format: [
                    ExportFormat::Md,
                    ExportFormat::Json,
                    ExportFormat::Html,
                    ExportFormat::Asciicast,
                ][usize::from(*format) % 4],
            },
        }
    }
}

impl Desk {
    fn request(&self, cx: &Context<'_>) -> DeskRequest {
        let t = |r: &TicketRef| r.resolve(cx);
        match self {
            Desk::TicketNew { channel, client, issue, priority, skills } => {
                DeskRequest::TicketNew {
                    channel: channel.clone(),
                    client: client.clone(),
                    contact: String::new(),
                    issue: issue.clone(),
                    priority: priority_of(*priority),
                    skills: skills.clone(),
                }
            }
            Desk::TicketShow(r) => DeskRequest::TicketShow { ticket: t(r) },
            Desk::TicketList { status, priority, assigned_to, breached, include_closed } => {
                DeskRequest::TicketList {
                    filter: TicketFilter {
                        status: status.map(status_of),
                        priority: priority.map(priority_of),
                        assigned_to: assigned_to.as_ref().map(UserRef::resolve),
                        breached: *breached,
                        include_closed: *include_closed,
                    },
                }
            }
            Desk::Assign { ticket, to } => {
                DeskRequest::Assign { ticket: t(ticket), to: to.resolve() }
            }
            Desk::Claim(r) => DeskRequest::Claim { ticket: t(r) },
            Desk::Ack(r) => DeskRequest::Ack { ticket: t(r) },
            Desk::SetPriority { ticket, priority, reason } => DeskRequest::SetPriority {
                ticket: t(ticket),
                priority: priority_of(*priority),
                reason: reason.clone(),
            },
            Desk::Escalate { ticket, to, reason } => DeskRequest::Escalate {
                ticket: t(ticket),
                to: to.as_ref().map(UserRef::resolve),
                reason: reason.clone(),
            },
            Desk::Close { ticket, reason } => {
                DeskRequest::Close { ticket: t(ticket), reason: reason.clone() }
            }
            Desk::FollowUp { ticket, due, note } => DeskRequest::FollowUp {
                ticket: t(ticket),
                due: due.resolve(cx),
                note: note.clone(),
            },
            Desk::SetAvailability(a) => DeskRequest::SetAvailability {
                availability: [
                    Availability::Available,
                    Availability::Busy,
                    Availability::Away,
                    Availability::Offline,
                ][usize::from(*a) % 4],
            },
            Desk::SetLocation { lat, lon } => DeskRequest::SetLocation { lat: *lat, lon: *lon },
            Desk::Watch => DeskRequest::Watch,
            Desk::Onsite { ticket, start, end, address, lat, lon, access, confirmed } => {
                DeskRequest::Onsite {
                    ticket: t(ticket),
                    window_start: start.resolve(cx),
                    window_end: end.resolve(cx),
                    address: address.clone(),
                    lat: *lat,
                    lon: *lon,
                    access: access.clone(),
                    contact_confirmed: *confirmed,
                }
            }
            Desk::Dispatch { ticket, to } => {
                DeskRequest::Dispatch { ticket: t(ticket), to: to.as_ref().map(UserRef::resolve) }
            }
            Desk::Eta { ticket, eta, delay } => DeskRequest::Eta {
                ticket: t(ticket),
                eta: eta.resolve(cx),
                delay_reason: delay.clone(),
            },
            Desk::OnsiteLog { ticket, kind, text, attachment } => DeskRequest::OnsiteLog {
                ticket: t(ticket),
                kind: [
                    OnsiteEntryKind::Action,
                    OnsiteEntryKind::Part,
                    OnsiteEntryKind::Equipment,
                    OnsiteEntryKind::Attachment,
                ][usize::from(*kind) % 4],
                text: text.clone(),
                attachment: attachment.as_ref().map(|(name, data)| Attachment {
                    name: name.clone(),
                    data_base64: data.clone(),
                }),
            },
            Desk::SignOff { ticket, name, solved } => {
                DeskRequest::SignOff { ticket: t(ticket), name: name.clone(), solved: *solved }
            }
            Desk::Report { from, to } => {
                DeskRequest::Report { from: from.resolve(cx), to: to.resolve(cx) }
            }
        }
    }
}

fn capability(i: u8) -> Capability {
    Capability::ALL[usize::from(i) % Capability::ALL.len()]
}

fn priority_of(i: u8) -> Priority {
    [Priority::Critical, Priority::High, Priority::Medium, Priority::Low][usize::from(i) % 4]
}

fn status_of(i: u8) -> TicketStatus {
    const ALL: [TicketStatus; 9] = [
        TicketStatus::New,
        TicketStatus::Queued,
        TicketStatus::Assigned,
        TicketStatus::InSession,
        TicketStatus::Escalated,
        TicketStatus::OnsiteScheduled,
        TicketStatus::OnsiteDone,
        TicketStatus::Resolved,
        TicketStatus::Closed,
    ];
    ALL[usize::from(i) % ALL.len()]
}
