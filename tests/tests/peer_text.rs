//! Text one side typed reaches the other side's terminal shown, not acted on (security review,
//! finding 3): chat, the clipboard, a proposed resolution and a leave reason, each carrying
//! escape sequences that would clear the screen, set the window title and print a line that
//! looks like the broker's. The real agent and console print in words, as a person reads
//! them; the other side is a library client sending whatever it likes.

use tether_client::{BrokerAddr, Connection, connect};
use tether_e2e::broker::Broker;
use tether_e2e::proc::{Agent, Running};
use tether_e2e::raw;
use tether_protocol::{
    Capability, Channel, ClientMessage, Credential, Frame, JoinTarget, Priority, Role, Secret,
    ServerMessage, SupportRequest, TicketId,
};

/// Clears the screen, sets the window title, then starts a line of its own.
const TRICK: &str = "\x1b[2J\x1b]0;owned\x07\r\n[broker] all clear";
/// The same, as it must be shown: on the line it came in, every control visible.
const SHOWN: &str = "␛[2J␛]0;owned␇␍␊[broker] all clear";

/// Waits for a printed line containing `part`.
fn line_with(words: &mut Running, part: &str) -> String {
    let event = words.wait_for(part, |e| {
        e["event"] == "text" && e["text"].as_str().is_some_and(|t| t.contains(part))
    });
    event["text"].as_str().unwrap_or_default().to_string()
}

/// Nothing a reader was shown acts on the terminal, and no line was forged.
fn nothing_acted(printed: &[serde_json::Value]) {
    for event in printed {
        let text = event["text"].as_str().unwrap_or_default();
        assert!(
            !text.chars().any(|c| c.is_control() && c != '\t'),
            "a control character reached the terminal: {text:?}"
        );
        assert!(!text.starts_with("[broker]"), "a forged line: {text:?}");
    }
}

async fn library_client(broker: &Broker, role: Role, credential: Credential) -> Connection {
    let addr: BrokerAddr = broker.url().parse().expect("broker URL");
    let (mut conn, _) =
        connect(&addr, raw::tls(&broker.ca()), role, credential).await.expect("connect");
    if role == Role::Agent {
        let request = SupportRequest {
            name: "Mallory".into(),
            contact: String::new(),
            issue: "help".into(),
            priority: Priority::Low,
        };
        conn.send(&ClientMessage::Request(request)).await.expect("request");
    }
    tether_client::check::run_check(&mut conn, |_| {}).await.expect("check");
    conn
}

async fn chat(conn: &mut Connection, text: &str) {
    let frame = Frame::encode(Channel::Chat, 0, text.as_bytes()).expect("chat frame");
    conn.send_frame(frame).await.expect("chat");
}

/// Answers the next consent request with yes.
async fn allow_next(customer: &mut Connection) -> Capability {
    loop {
        if let ServerMessage::ConsentRequested { capability } =
            customer.recv_control().await.expect("consent request")
        {
            let answer = ClientMessage::Consent { capability, granted: true };
            customer.send(&answer).await.expect("consent");
            return capability;
        }
    }
}

#[test]
fn what_a_customer_types_reaches_the_technician_shown_not_acted_on() {
    let broker = Broker::start();
    let alice = broker.technician("alice");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (mut customer, ticket) = rt.block_on(async {
        let mut customer = library_client(&broker, Role::Agent, Credential::None).await;
        let ServerMessage::TicketCreated { ticket } =
            customer.recv_control().await.expect("ticket")
        else {
            panic!("no ticket")
        };
        (customer, ticket.id.to_string())
    });
    let mut words = alice.join_in_words(&ticket);
    line_with(&mut words, "Mallory is connected");
    // The console asks for view on joining; the customer allows it and chats.
    assert_eq!(rt.block_on(allow_next(&mut customer)), Capability::View);
    rt.block_on(chat(&mut customer, TRICK));
    assert_eq!(line_with(&mut words, "all clear"), format!("[Mallory] {SHOWN}"));

    // The clipboard, once the technician holds control.
    words.send("request control");
    assert_eq!(rt.block_on(allow_next(&mut customer)), Capability::Control);
    line_with(&mut words, "Customer allowed control");
    let clip = Frame::encode(Channel::Clipboard, 0, TRICK.as_bytes()).expect("clipboard frame");
    rt.block_on(customer.send_frame(clip)).expect("clipboard");
    assert_eq!(line_with(&mut words, "clipboard:"), format!("The customer's clipboard: {SHOWN}"));

    // The reason the customer gives for leaving.
    let leave = ClientMessage::Leave { reason: Some(TRICK.into()) };
    rt.block_on(customer.send(&leave)).expect("leave");
    let ended = line_with(&mut words, "Session ended");
    assert!(ended.contains(SHOWN), "{ended:?}");
    let (status, printed) = words.finish();
    assert!(status.success());
    nothing_acted(&printed);
}

#[test]
fn what_a_technician_types_reaches_the_customer_shown_not_acted_on() {
    let broker = Broker::start();
    let alice = broker.technician("alice");
    let mut words = Agent::request_in_words(&broker, "bob", "ask");
    let told = line_with(&mut words, "Your request is ticket");
    let ticket: TicketId = told
        .trim_start_matches("Your request is ticket ")
        .trim_end_matches('.')
        .parse()
        .expect("a ticket id in the sentence");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let token = Credential::Token { token: Secret::new(alice.token()) };
    let mut technician = rt.block_on(async {
        let mut technician = library_client(&broker, Role::Console, token).await;
        let join = ClientMessage::Join { target: JoinTarget::Ticket(ticket) };
        technician.send(&join).await.expect("join");
        while !matches!(technician.recv_control().await.expect("paired"), ServerMessage::Paired(_))
        {
        }
        technician
    });
    line_with(&mut words, "Technician alice has joined");
    rt.block_on(chat(&mut technician, TRICK));
    assert_eq!(line_with(&mut words, "all clear"), format!("[alice] {SHOWN}"));

    // A proposed resolution: the customer's question keeps its own line, the text its one.
    let resolve = ClientMessage::Resolve { text: TRICK.into() };
    rt.block_on(technician.send(&resolve)).expect("resolve");
    assert_eq!(
        line_with(&mut words, "says the problem is resolved"),
        format!("alice says the problem is resolved: {SHOWN}")
    );
    line_with(&mut words, "Is your problem solved? [y/N]");

    // The technician's reason for leaving.
    let leave = ClientMessage::Leave { reason: Some(TRICK.into()) };
    rt.block_on(technician.send(&leave)).expect("leave");
    let ended = line_with(&mut words, "Session ended");
    assert!(ended.contains(SHOWN), "{ended:?}");
    let (status, printed) = words.finish();
    assert!(status.success());
    nothing_acted(&printed);
}
