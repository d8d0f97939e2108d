//! Two network namespaces joined by a veth pair, optionally shaped: `tc` tbf sets the rate in
//! both directions; the delay comes from netem where the kernel has it, and otherwise from
//! `tether-delay-line`, a userspace delay line in the agent's namespace (this machine's kernel
//! is built without sch_netem). A real slow link on one machine. And [`Island`]s: namespaces
//! that reach this one (where the broker runs) but, with forwarding off here, not each other.
//! Needs root (CI runs as root): without it a test binary says so in one line and exits, and
//! skips only when told to with `TETHER_SKIP_NETNS=1`.

use std::process::Command;

/// A broker side and an agent side, 10.77.N.1 and 10.77.N.2.
#[derive(Debug)]
pub struct Link {
    /// The broker's namespace.
    pub broker_ns: String,
    /// The agent's namespace.
    pub agent_ns: String,
    /// The broker's address.
    pub broker_ip: String,
    /// The agent's address.
    pub agent_ip: String,
    broker_if: String,
    agent_if: String,
}

fn run(args: &[&str]) -> Result<(), String> {
    let out =
        Command::new(args[0]).args(&args[1..]).output().map_err(|e| format!("{}: {e}", args[0]))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!("`{}` failed: {}", args.join(" "), String::from_utf8_lossy(&out.stderr).trim()))
    }
}

/// Runs each command in turn, stopping at the first that fails.
fn run_all(steps: &[&[&str]]) -> Result<(), String> {
    steps.iter().try_for_each(|step| run(step))
}

impl Link {
    /// Makes the namespaces and the link, or says why it cannot. Names are unique per process
    /// and `tag`, so tests can run side by side.
    pub fn create(tag: u8) -> Result<Link, String> {
        let id = format!("{}{tag}", std::process::id() % 100_000);
        let link = Link {
            broker_ns: format!("tb{id}"),
            agent_ns: format!("ta{id}"),
            broker_ip: format!("10.77.{tag}.1"),
            agent_ip: format!("10.77.{tag}.2"),
            broker_if: format!("vb{id}"),
            agent_if: format!("va{id}"),
        };
        let agent_ip = link.agent_ip.clone();
        run_all(&[
            &["ip", "netns", "add", &link.broker_ns],
            &["ip", "netns", "add", &link.agent_ns],
            &["ip", "link", "add", &link.broker_if, "type", "veth", "peer", "name", &link.agent_if],
            &["ip", "link", "set", &link.broker_if, "netns", &link.broker_ns],
            &["ip", "link", "set", &link.agent_if, "netns", &link.agent_ns],
            &[
                "ip",
                "-n",
                &link.broker_ns,
                "addr",
                "add",
                &format!("{}/24", link.broker_ip),
                "dev",
                &link.broker_if,
            ],
            &[
                "ip",
                "-n",
                &link.agent_ns,
                "addr",
                "add",
                &format!("{agent_ip}/24"),
                "dev",
                &link.agent_if,
            ],
            &["ip", "-n", &link.broker_ns, "link", "set", &link.broker_if, "up"],
            &["ip", "-n", &link.agent_ns, "link", "set", &link.agent_if, "up"],
            &["ip", "-n", &link.broker_ns, "link", "set", "lo", "up"],
            &["ip", "-n", &link.agent_ns, "link", "set", "lo", "up"],
        ])?;
        Ok(link)
    }

    /// Shapes both directions to `rate` (e.g. `1mbit`) with tbf.
    pub fn shape_rate(&self, rate: &str) -> Result<(), String> {
        for (ns, dev) in [(&self.broker_ns, &self.broker_if), (&self.agent_ns, &self.agent_if)] {
            run(&[
                "ip", "netns", "exec", ns, "tc", "qdisc", "add", "dev", dev, "root", "tbf", "rate",
                rate, "burst", "32kbit", "latency", "1s",
            ])?;
        }
        Ok(())
    }

    /// Adds `delay_ms` to every round trip between the agent's namespace and the broker:
    /// with netem when the kernel has it; else returns a delay line (kept running while the
    /// returned guard lives) listening at `10.77.N.2:port`, forwarding to `target`, through
    /// which the agent must connect.
    pub fn delay(&self, delay_ms: u64, target: &str) -> Result<Delay, String> {
        let netem = run(&[
            "ip",
            "netns",
            "exec",
            &self.agent_ns,
            "tc",
            "qdisc",
            "add",
            "dev",
            &self.agent_if,
            "root",
            "handle",
            "1:",
            "netem",
            "delay",
            &format!("{delay_ms}ms"),
        ]);
        if netem.is_ok() {
            return Ok(Delay { line: None, address: target.to_string() });
        }
        let mut child = self
            .in_agent_ns("tether-delay-line")
            .args([&format!("{}:0", self.agent_ip), target, &delay_ms.to_string()])
            .stdout(std::process::Stdio::piped())
            .spawn()
            .map_err(|e| format!("starting the delay line: {e}"))?;
        let mut line = String::new();
        let stdout = child.stdout.take().ok_or("no stdout")?;
        std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line)
            .map_err(|e| e.to_string())?;
        let address =
            line.trim().strip_prefix("delay line listening on ").ok_or(line.clone())?.to_string();
        Ok(Delay { line: Some(child), address })
    }

    /// The binary `name` run inside the agent's namespace.
    pub fn in_agent_ns(&self, name: &str) -> Command {
        crate::bins::command_in(Some(&self.agent_ns), name)
    }
}

/// The delay in place: where the agent connects to reach the broker through it.
#[derive(Debug)]
pub struct Delay {
    line: Option<std::process::Child>,
    /// host:port to connect to.
    pub address: String,
}

impl Drop for Delay {
    fn drop(&mut self) {
        if let Some(child) = self.line.as_mut() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Link {
    fn drop(&mut self) {
        // Deleting a namespace deletes its end of the veth, and with it the pair.
        let _ = run(&["ip", "netns", "del", &self.broker_ns]);
        let _ = run(&["ip", "netns", "del", &self.agent_ns]);
    }
}

/// A link, or `None` after saying loudly that the test is skipped (only when
/// `TETHER_SKIP_NETNS=1`); otherwise a failure to make one fails the test.
pub fn link_or_skip(tag: u8) -> Option<Link> {
    or_skip(|| Link::create(tag))
}

/// What was made, or `None` after saying loudly that the test is skipped (only when
/// `TETHER_SKIP_NETNS=1`); otherwise a failure fails the test.
fn or_skip<T>(make: impl FnOnce() -> Result<T, String>) -> Option<T> {
    let skip = std::env::var("TETHER_SKIP_NETNS").as_deref() == Ok("1");
    if skip && !crate::require::is_root() {
        eprintln!("SKIPPED: network namespaces need root");
        return None;
    }
    crate::require::root("network namespaces for the customer's and technician's networks");
    crate::require::programs(&[("ip", "iproute2"), ("tc", "iproute2")]);
    match make() {
        Ok(made) => Some(made),
        Err(why) if std::env::var("TETHER_SKIP_NETNS").as_deref() == Ok("1") => {
            eprintln!("SKIPPED: network namespaces cannot be made here ({why})");
            None
        }
        Err(why) => panic!(
            "this test needs network namespaces (root, iproute2): {why}. \
             Set TETHER_SKIP_NETNS=1 to skip it knowingly."
        ),
    }
}

/// A namespace joined to this one by a veth pair: 10.78.N.1 here, 10.78.N.2 there, with its
/// default route through here. Two islands reach every address of this namespace, and so a
/// broker listening here, but not each other, as long as this namespace does not forward.
#[derive(Debug)]
pub struct Island {
    /// The island's namespace.
    pub ns: String,
    /// This namespace's address on the link.
    pub here_ip: String,
    /// The island's address.
    pub ip: String,
    here_if: String,
}

impl Island {
    /// Makes the island, or says why it cannot.
    pub fn create(tag: u8) -> Result<Island, String> {
        let forwarding = std::fs::read_to_string("/proc/sys/net/ipv4/ip_forward")
            .map_err(|e| format!("ip_forward: {e}"))?;
        if forwarding.trim() != "0" {
            return Err("this namespace forwards IPv4, so islands would reach each other".into());
        }
        let id = format!("{}{tag}", std::process::id() % 100_000);
        let island = Island {
            ns: format!("ti{id}"),
            here_ip: format!("10.78.{tag}.1"),
            ip: format!("10.78.{tag}.2"),
            here_if: format!("vh{id}"),
        };
        let there_if = format!("vi{id}");
        let made = run_all(&[
            &["ip", "netns", "add", &island.ns],
            &["ip", "link", "add", &island.here_if, "type", "veth", "peer", "name", &there_if],
            &["ip", "link", "set", &there_if, "netns", &island.ns],
            &["ip", "addr", "add", &format!("{}/24", island.here_ip), "dev", &island.here_if],
            &["ip", "link", "set", &island.here_if, "up"],
            &[
                "ip",
                "-n",
                &island.ns,
                "addr",
                "add",
                &format!("{}/24", island.ip),
                "dev",
                &there_if,
            ],
            &["ip", "-n", &island.ns, "link", "set", &there_if, "up"],
            &["ip", "-n", &island.ns, "link", "set", "lo", "up"],
            &["ip", "-n", &island.ns, "route", "add", "default", "via", &island.here_ip],
        ]);
        if let Err(e) = made {
            let _ = run(&["ip", "netns", "del", &island.ns]);
            let _ = run(&["ip", "link", "del", &island.here_if]);
            return Err(e);
        }
        Ok(island)
    }
}

/// A private veth link between two islands, routed so that each reaches the other's address
/// on it rather than through this namespace; [`Bridge::cut`] removes it, [`Bridge::restore`]
/// makes it again as it was, and dropping removes it.
#[derive(Debug)]
pub struct Bridge {
    /// (namespace, interface, address on the link, the other island's address) for each end.
    ends: [(String, String, String, String); 2],
}

impl Island {
    /// Joins this island and `other` directly (10.79.N.1 and 10.79.N.2).
    pub fn bridge(&self, other: &Island, tag: u8) -> Result<Bridge, String> {
        let id = format!("{}{tag}", std::process::id() % 100_000);
        let bridge = Bridge {
            ends: [
                (self.ns.clone(), format!("ba{id}"), format!("10.79.{tag}.1"), other.ip.clone()),
                (other.ns.clone(), format!("bb{id}"), format!("10.79.{tag}.2"), self.ip.clone()),
            ],
        };
        bridge.restore()?;
        Ok(bridge)
    }
}

impl Bridge {
    /// Removes the link: the islands reach each other no more.
    pub fn cut(&self) {
        let (ns, dev, ..) = &self.ends[0];
        let _ = run(&["ip", "-n", ns, "link", "del", dev]);
    }

    /// Makes the link (again), with the same addresses and routes.
    pub fn restore(&self) -> Result<(), String> {
        let [(a_ns, a_if, a_ip, b_island), (b_ns, b_if, b_ip, a_island)] = &self.ends;
        run_all(&[
            &["ip", "link", "add", a_if, "type", "veth", "peer", "name", b_if],
            &["ip", "link", "set", a_if, "netns", a_ns],
            &["ip", "link", "set", b_if, "netns", b_ns],
            &["ip", "-n", a_ns, "addr", "add", &format!("{a_ip}/24"), "dev", a_if],
            &["ip", "-n", b_ns, "addr", "add", &format!("{b_ip}/24"), "dev", b_if],
            &["ip", "-n", a_ns, "link", "set", a_if, "up"],
            &["ip", "-n", b_ns, "link", "set", b_if, "up"],
            &["ip", "-n", a_ns, "route", "add", &format!("{b_island}/32"), "via", b_ip],
            &["ip", "-n", b_ns, "route", "add", &format!("{a_island}/32"), "via", a_ip],
        ])
    }
}

impl Drop for Bridge {
    fn drop(&mut self) {
        self.cut();
    }
}

impl Drop for Island {
    fn drop(&mut self) {
        let _ = run(&["ip", "netns", "del", &self.ns]);
        let _ = run(&["ip", "link", "del", &self.here_if]);
    }
}

/// An island, or `None` after saying loudly that the test is skipped (only when
/// `TETHER_SKIP_NETNS=1`); otherwise a failure to make one fails the test.
pub fn island_or_skip(tag: u8) -> Option<Island> {
    or_skip(|| Island::create(tag))
}
