//! The link's decisions with paths that are test doubles and time that is paused: what the
//! session hears, when attempts start, which signals reach which attempt.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::*;

const TIMEOUT_SECS: u64 = 5;

/// A path that keeps the signals it is given.
#[derive(Debug, Default)]
struct Fake {
    got: Mutex<Vec<Signal>>,
    closed: AtomicBool,
}

#[async_trait::async_trait]
impl DirectPath for Fake {
    async fn signal(&self, signal: Signal) -> Result<(), DirectError> {
        self.got.lock().unwrap().push(signal);
        Ok(())
    }

    async fn send(&self, _frame: Bytes) -> bool {
        true
    }

    async fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
    }
}

impl Fake {
    fn got(&self) -> Vec<Signal> {
        self.got.lock().unwrap().clone()
    }
}

/// One path the link made, with the ends the real one would use.
struct Made {
    path: Arc<Fake>,
    signals: mpsc::UnboundedSender<Signal>,
    events: mpsc::UnboundedSender<DirectEvent>,
}

type Paths = Arc<Mutex<Vec<Made>>>;

/// A link whose paths are [`Fake`]s; an offering one sends an offer, as the real one does.
fn link(offerer: bool) -> (Link, Paths) {
    let made = Paths::default();
    let paths = made.clone();
    let open = Opener(Arc::new(move |setup: Setup, signals, events| {
        let path = Arc::new(Fake::default());
        if setup.offerer {
            let _ = signals.send(Signal::Offer { sdp: r#"{"type":"offer","sdp":"o"}"#.into() });
        }
        paths.lock().unwrap().push(Made { path: path.clone(), signals, events });
        Box::pin(async move { Ok(path as Arc<dyn DirectPath>) })
    }));
    let link = Link::with_opener(open, offerer, true, "127.0.0.1".parse().unwrap());
    (link, made)
}

fn path(made: &Paths, i: usize) -> Arc<Fake> {
    made.lock().unwrap()[i].path.clone()
}

fn event(made: &Paths, i: usize, event: DirectEvent) {
    made.lock().unwrap()[i].events.send(event).unwrap();
}

/// The next news, however long (in paused time) it takes.
async fn next(link: &mut Link) -> News {
    tokio::time::timeout(Duration::from_secs(3600), link.next()).await.expect("news")
}

/// Nothing for the session for `wait`.
async fn quiet(link: &mut Link, wait: Duration) {
    if let Ok(news) = tokio::time::timeout(wait, link.next()).await {
        panic!("unexpected {news:?}");
    }
}

/// Waits for an offer and returns its attempt number.
async fn offer(link: &mut Link) -> u32 {
    match next(link).await {
        News::Signal(s @ Signal::Offer { .. }) => attempt_of(&s).expect("numbered"),
        other => panic!("expected an offer, got {other:?}"),
    }
}

fn answer(attempt: u32) -> Signal {
    stamp(Signal::Answer { sdp: r#"{"type":"answer","sdp":"a"}"#.into() }, attempt)
}

fn candidate(attempt: u32) -> Signal {
    stamp(Signal::Candidate { candidate: r#"{"candidate":"c"}"#.into() }, attempt)
}

#[tokio::test(start_paused = true)]
async fn after_a_path_goes_down_new_attempts_follow_with_growing_pauses_until_one_is_up() {
    let (mut link, made) = link(true);
    assert_eq!(link.invited(Vec::new(), TIMEOUT_SECS, &[]), None);
    assert_eq!(offer(&mut link).await, 1);
    event(&made, 0, DirectEvent::Up);
    assert_eq!(next(&mut link).await, News::Up("the direct path is up".into()));
    assert!(link.is_direct());

    event(&made, 0, DirectEvent::Down("the peer connection is disconnected".into()));
    let down = next(&mut link).await;
    assert_eq!(
        down,
        News::Down("the direct path went down: the peer connection is disconnected".into())
    );
    assert!(!link.is_direct(), "everything goes on the relay at once");
    let went_down = Instant::now();

    // A new offer after the first pause; it does not come up, and its failure is not news
    // (the session is on the relay already); the next waits twice as long.
    assert_eq!(offer(&mut link).await, 2);
    assert_eq!(went_down.elapsed(), FIRST_RETRY);
    assert!(path(&made, 0).closed.load(Ordering::SeqCst), "the old path was closed");
    let second = Instant::now();
    assert_eq!(offer(&mut link).await, 3, "no news between the attempts");
    let timeout = Duration::from_secs(TIMEOUT_SECS);
    assert_eq!(second.elapsed(), timeout + FIRST_RETRY * 2);

    // A late answer to attempt 2 never reaches attempt 3; its own does.
    link.signal(answer(2)).await;
    link.signal(candidate(2)).await;
    assert!(path(&made, 2).got().is_empty());
    link.signal(answer(3)).await;
    link.signal(candidate(3)).await;
    assert_eq!(path(&made, 2).got(), [answer(3), candidate(3)]);

    event(&made, 2, DirectEvent::Up);
    assert_eq!(next(&mut link).await, News::Up("the direct path is up again".into()));
    assert!(link.is_direct());
}

#[tokio::test(start_paused = true)]
async fn the_pauses_grow_to_a_limit_and_start_short_again_after_a_path_that_held() {
    let (mut link, made) = link(true);
    link.invited(Vec::new(), TIMEOUT_SECS, &[]);
    offer(&mut link).await;
    event(&made, 0, DirectEvent::Up);
    next(&mut link).await;
    // A path that flaps: each time up and at once down again, the pause doubles, to a limit.
    let mut pauses = Vec::new();
    for i in 0..6 {
        event(&made, i, DirectEvent::Down("x".into()));
        assert!(matches!(next(&mut link).await, News::Down(_)));
        let at = Instant::now();
        offer(&mut link).await;
        pauses.push(at.elapsed().as_secs());
        event(&made, i + 1, DirectEvent::Up);
        next(&mut link).await;
    }
    assert_eq!(pauses, [1, 2, 4, 8, 8, 8]);
    // One that held for a while is healthy: after it goes, the first pause is short again.
    tokio::time::sleep(STABLE).await;
    event(&made, 6, DirectEvent::Down("x".into()));
    next(&mut link).await;
    let at = Instant::now();
    offer(&mut link).await;
    assert_eq!(at.elapsed(), FIRST_RETRY);
}

#[tokio::test(start_paused = true)]
async fn a_path_that_never_came_up_is_reported_once_and_not_tried_again() {
    let (mut link, made) = link(true);
    link.invited(Vec::new(), TIMEOUT_SECS, &[]);
    assert_eq!(offer(&mut link).await, 1);
    assert_eq!(next(&mut link).await, News::Down("no direct path: not up within 5 s".into()));
    quiet(&mut link, Duration::from_secs(600)).await;
    assert_eq!(made.lock().unwrap().len(), 1);
}

#[tokio::test(start_paused = true)]
async fn closing_stops_the_attempts() {
    let (mut link, made) = link(true);
    link.invited(Vec::new(), TIMEOUT_SECS, &[]);
    offer(&mut link).await;
    event(&made, 0, DirectEvent::Up);
    next(&mut link).await;
    event(&made, 0, DirectEvent::Down("x".into()));
    next(&mut link).await;
    link.close();
    quiet(&mut link, Duration::from_secs(600)).await;
    assert_eq!(made.lock().unwrap().len(), 1);
}

#[tokio::test(start_paused = true)]
async fn the_answering_side_follows_the_newest_offer() {
    let (mut link, made) = link(false);
    link.invited(Vec::new(), TIMEOUT_SECS, &[]);
    let offer1 = stamp(Signal::Offer { sdp: r#"{"type":"offer","sdp":"1"}"#.into() }, 1);
    link.signal(offer1.clone()).await;
    link.signal(candidate(1)).await;
    assert_eq!(path(&made, 0).got(), [offer1.clone(), candidate(1)]);
    // Its answer carries the offer's number.
    let sent = Signal::Answer { sdp: r#"{"type":"answer","sdp":"a"}"#.into() };
    made.lock().unwrap()[0].signals.send(sent).unwrap();
    assert_eq!(next(&mut link).await, News::Signal(answer(1)));
    event(&made, 0, DirectEvent::Up);
    assert_eq!(next(&mut link).await, News::Up("the direct path is up".into()));

    // The customer's side saw the path fail first and offers again: this side leaves the
    // old path for the relay, then takes the new one.
    let offer2 = stamp(Signal::Offer { sdp: r#"{"type":"offer","sdp":"2"}"#.into() }, 2);
    link.signal(offer2.clone()).await;
    assert!(matches!(next(&mut link).await, News::Down(why) if why.contains("set it up again")));
    assert!(!link.is_direct());
    // Late signals of attempt 1, the offer included, change nothing.
    link.signal(offer1).await;
    link.signal(candidate(1)).await;
    assert_eq!(made.lock().unwrap().len(), 2);
    assert_eq!(path(&made, 1).got(), [offer2]);
    event(&made, 1, DirectEvent::Up);
    assert_eq!(next(&mut link).await, News::Up("the direct path is up again".into()));
}

#[tokio::test(start_paused = true)]
async fn signals_without_a_number_go_to_the_current_attempt() {
    // An older peer does not number its signals.
    let (mut link, made) = link(false);
    link.invited(Vec::new(), TIMEOUT_SECS, &[]);
    let offer = Signal::Offer { sdp: r#"{"type":"offer","sdp":"1"}"#.into() };
    let candidate = Signal::Candidate { candidate: r#"{"candidate":"c"}"#.into() };
    link.signal(offer.clone()).await;
    link.signal(candidate.clone()).await;
    assert_eq!(path(&made, 0).got(), [offer, candidate]);
}

#[test]
fn a_stamp_adds_the_number_and_keeps_the_rest() {
    let offer = Signal::Offer { sdp: r#"{"type":"offer","sdp":"v=0"}"#.into() };
    assert_eq!(attempt_of(&offer), None);
    let stamped = stamp(offer, 7);
    assert_eq!(attempt_of(&stamped), Some(7));
    let Signal::Offer { sdp } = stamped else { panic!("an offer") };
    let json: serde_json::Value = serde_json::from_str(&sdp).unwrap();
    assert_eq!((json["type"].as_str(), json["sdp"].as_str()), (Some("offer"), Some("v=0")));
    // What is not a JSON object is left alone.
    let odd = Signal::Candidate { candidate: "not json".into() };
    assert_eq!(stamp(odd.clone(), 1), odd);
}

#[tokio::test(start_paused = true)]
async fn a_path_the_other_side_ended_with_its_session_is_neither_news_nor_tried_again() {
    let (mut link, made) = link(true);
    link.invited(Vec::new(), TIMEOUT_SECS, &[]);
    offer(&mut link).await;
    event(&made, 0, DirectEvent::Up);
    next(&mut link).await;
    event(&made, 0, DirectEvent::Ended);
    quiet(&mut link, Duration::from_secs(600)).await;
    assert!(!link.is_direct(), "frames go through the broker");
    assert_eq!(made.lock().unwrap().len(), 1);
}

#[tokio::test(start_paused = true)]
async fn finishing_closes_the_path_and_stops_the_attempts() {
    let (mut link, made) = link(true);
    link.invited(Vec::new(), TIMEOUT_SECS, &[]);
    offer(&mut link).await;
    event(&made, 0, DirectEvent::Up);
    next(&mut link).await;
    link.finish().await;
    assert!(!link.is_direct());
    assert!(path(&made, 0).closed.load(Ordering::SeqCst));
    quiet(&mut link, Duration::from_secs(600)).await;
}
