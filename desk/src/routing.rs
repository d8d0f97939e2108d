//! Routing: who should take a ticket. Remote tickets go to the available technician with the
//! required skills and the least load; onsite visits also weigh the distance from the
//! technician to the site. Pure: the candidates and their load come in as data.

use tether_protocol::{Availability, UserRole};

use tether_store::UserRecord;

/// A technician as routing sees them.
#[derive(Debug, Clone)]
pub struct Candidate<'a> {
    /// The account.
    pub user: &'a UserRecord,
    /// Open tickets assigned to them.
    pub load: usize,
    /// Sessions they are in right now.
    pub sessions: usize,
}

/// A technician's availability as others see it: `busy` while in as many sessions as allowed.
pub fn effective(user: &UserRecord, sessions: usize, max_sessions: usize) -> Availability {
    match user.availability {
        Availability::Available if sessions >= max_sessions => Availability::Busy,
        other => other,
    }
}

fn eligible(c: &Candidate<'_>, skills: &[String], max_sessions: usize) -> bool {
    !c.user.disabled
        && c.user.role != UserRole::Admin
        && effective(c.user, c.sessions, max_sessions) == Availability::Available
        && skills.iter().all(|s| c.user.skills.iter().any(|have| have.eq_ignore_ascii_case(s)))
}

/// The technician to offer a remote ticket to: available, has every required skill, least
/// loaded (then fewest sessions, then name, so the choice is stable).
pub fn pick<'a>(
    candidates: &[Candidate<'a>],
    skills: &[String],
    max_sessions: usize,
) -> Option<&'a UserRecord> {
    candidates
        .iter()
        .filter(|c| eligible(c, skills, max_sessions))
        .min_by(|a, b| (a.load, a.sessions, &a.user.name).cmp(&(b.load, b.sessions, &b.user.name)))
        .map(|c| c.user)
}

/// The technician to send to a site: eligible as for [`pick`], with a known location, nearest
/// first (load breaks ties within a kilometre).
pub fn pick_for_site<'a>(
    candidates: &[Candidate<'a>],
    skills: &[String],
    max_sessions: usize,
    site: (f64, f64),
) -> Option<(&'a UserRecord, f64)> {
    candidates
        .iter()
        .filter(|c| eligible(c, skills, max_sessions))
        .filter_map(|c| c.user.location.map(|loc| (c, distance_km(loc, site))))
        .min_by(|(a, da), (b, db)| {
            (da.round() as i64, a.load, &a.user.name).cmp(&(
                db.round() as i64,
                b.load,
                &b.user.name,
            ))
        })
        .map(|(c, d)| (c.user, d))
}

/// Great-circle distance in kilometres (haversine).
pub fn distance_km(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (lat1, lon1) = (a.0.to_radians(), a.1.to_radians());
    let (lat2, lon2) = (b.0.to_radians(), b.1.to_radians());
    let h = ((lat2 - lat1) / 2.0).sin().powi(2)
        + lat1.cos() * lat2.cos() * ((lon2 - lon1) / 2.0).sin().powi(2);
    2.0 * 6371.0 * h.sqrt().asin()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tech(
        name: &str,
        skills: &[&str],
        availability: Availability,
        location: Option<(f64, f64)>,
    ) -> UserRecord {
        UserRecord {
            name: name.into(),
            role: UserRole::Technician,
            skills: skills.iter().map(|s| s.to_string()).collect(),
            password_hash: String::new(),
            disabled: false,
            created_at: 0,
            availability,
            location,
            failed_logins: 0,
            locked_until: None,
        }
    }

    #[test]
    fn picks_the_least_loaded_available_technician_with_the_skills() {
        let ann = tech("ann", &["printers", "vpn"], Availability::Available, None);
        let ben = tech("ben", &["printers"], Availability::Available, None);
        let cat = tech("cat", &["printers", "vpn"], Availability::Away, None);
        let dan = tech("dan", &["vpn"], Availability::Available, None);
        let c = |u, load, sessions| Candidate { user: u, load, sessions };
        let all = [c(&ann, 3, 0), c(&ben, 1, 0), c(&cat, 0, 0), c(&dan, 0, 1)];
        assert_eq!(pick(&all, &["printers".into()], 1).unwrap().name, "ben");
        // Needs vpn too: ben lacks it, cat is away, dan is in a session (busy at 1).
        assert_eq!(pick(&all, &["printers".into(), "VPN".into()], 1).unwrap().name, "ann");
        // With room for two sessions dan is available and least loaded.
        assert_eq!(pick(&all, &["vpn".into()], 2).unwrap().name, "dan");
        assert!(pick(&all, &["mainframes".into()], 1).is_none());
        assert_eq!(effective(&dan, 1, 1), Availability::Busy);
        assert_eq!(effective(&cat, 0, 1), Availability::Away);
    }

    #[test]
    fn onsite_goes_to_the_nearest_eligible_technician() {
        let berlin = (52.52, 13.405);
        let potsdam = (52.39, 13.065);
        let munich = (48.137, 11.575);
        let near = tech("near", &["printers"], Availability::Available, Some(potsdam));
        let far = tech("far", &["printers"], Availability::Available, Some(munich));
        let nowhere = tech("nowhere", &["printers"], Availability::Available, None);
        let c = |u| Candidate { user: u, load: 0, sessions: 0 };
        let (who, km) = pick_for_site(&[c(&far), c(&near), c(&nowhere)], &[], 1, berlin).unwrap();
        assert_eq!(who.name, "near");
        assert!((25.0..35.0).contains(&km), "{km}");
        assert!((distance_km(berlin, munich) - 504.0).abs() < 5.0);
    }
}
